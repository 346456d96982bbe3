// The local stack's demo directory: one tenant, a few groups, five people (and one outsider).
// Group and tenant ids are fixed GUIDs so the server's role settings can name them.
export const TENANT_ID = '3f2b8c1e-5d4a-4e8b-9c7d-1a2b3c4d5e6f';
export const OTHER_TENANT_ID = '9d8c7b6a-5f4e-4d3c-8b2a-190817161514';

export const GROUPS = {
  gatehouseAdmins: 'a1d0c6e8-3f4b-4c2a-9e1d-7b8c9d0e1f20',
  gatehouseAuditors: 'b2e1d7f9-4a5c-4d3b-8f2e-8c9d0e1f2031',
  ordersTeam: 'c3f2e8a0-5b6d-4e4c-9a3f-9d0e1f203142',
  finance: 'd4a3f9b1-6c7e-4f5d-8b4a-0e1f20314253',
};

export const APP_ROLES = { reviewer: 'Gatehouse.Reviewer' };

// key: what a test passes as login_hint (the email works too).
export const USERS = [
  {
    key: 'admin', oid: '0a1b2c3d-0000-4000-8000-000000000001', name: 'Ada Admin',
    email: 'ada.admin@contoso.test', groups: [GROUPS.gatehouseAdmins, GROUPS.ordersTeam], roles: [],
    blurb: 'admin',
  },
  {
    key: 'reviewer', oid: '0a1b2c3d-0000-4000-8000-000000000002', name: 'Rita Reviewer',
    email: 'rita.reviewer@contoso.test', groups: [GROUPS.finance], roles: [APP_ROLES.reviewer],
    blurb: 'reviewer (through an app role)',
  },
  {
    key: 'auditor', oid: '0a1b2c3d-0000-4000-8000-000000000003', name: 'Arun Auditor',
    email: 'arun.auditor@contoso.test', groups: [GROUPS.gatehouseAuditors], roles: [],
    blurb: 'auditor',
  },
  {
    key: 'admin-reviewer', oid: '0a1b2c3d-0000-4000-8000-000000000004', name: 'Sam Both',
    email: 'sam.both@contoso.test', groups: [GROUPS.gatehouseAdmins], roles: [APP_ROLES.reviewer],
    blurb: 'admin and reviewer',
  },
  {
    key: 'norole', oid: '0a1b2c3d-0000-4000-8000-000000000005', name: 'Nora Nobody',
    email: 'nora.nobody@contoso.test', groups: [GROUPS.ordersTeam], roles: [],
    blurb: 'no Gatehouse role',
  },
  {
    // In more groups than a token carries: the token says so (_claim_names) instead of listing
    // them, and Gatehouse asks Microsoft Graph (the admin group is among them).
    key: 'overage', oid: '0a1b2c3d-0000-4000-8000-000000000007', name: 'Olive Overage',
    email: 'olive.overage@contoso.test', groups: [GROUPS.gatehouseAdmins], roles: [], overage: true,
    blurb: 'in over 200 groups (needs Microsoft Graph)',
  },
  {
    key: 'outsider', oid: '0a1b2c3d-0000-4000-8000-000000000006', name: 'Olga Outsider',
    email: 'olga@fabrikam.test', groups: [GROUPS.gatehouseAdmins], roles: [], tid: OTHER_TENANT_ID,
    blurb: 'from another tenant (refused)',
  },
];

export function findUser(hint) {
  if (!hint) return undefined;
  const lower = String(hint).toLowerCase();
  return USERS.find((u) => u.key === lower || u.email === lower);
}
