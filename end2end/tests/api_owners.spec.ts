import { test, expect, type Page, type TestInfo } from '@playwright/test';
import { bindInDraft, expectNoAxeViolations, pick, ready, runSync, screenshot, signedIn, watchConsole } from './helpers';

// API owners: an admin names the group that owns the APIs tagged team=logistics (inventory-api
// among them); a change set granting a route on it is approved by a reviewer, yet waits until an
// owner (Sam Both, in "Gatehouse admins") approves too. Tagged @serial: owners on an API change what every other test's approvals need,
// so this runs in the one-at-a-time pass (see e2e.sh) and clears them at its end.
const API = 'inventory-api';
const ROLE = 'gatehouse-inventory-readers';
const OWNERS = 'Gatehouse admins';

async function openApi(page: Page, testInfo: TestInfo) {
  await page.goto(`/apis?q=${API}`);
  await page.getByTestId('api-table').getByRole('link', { name: API }).click();
  await expect(page.getByRole('heading', { level: 1 })).toContainText(API);
  await ready(page, testInfo);
}

test('a change set on an owned API waits for an owner to approve it @serial', async ({ browser }, testInfo) => {
  // Each project its own group (both bind it to the role) and route; no other test binds these.
  const [GROUP, method] = testInfo.project.name === 'js-on' ? ['Mobile app', 'GET'] : ['Partner integrations', 'PATCH'];
  const admin = await signedIn(browser, testInfo, 'admin', '/sync');
  // The API page hydrates as rendered (an owners section in a Suspense of its own did not).
  const errors = watchConsole(admin);
  for (const [button, catalog] of [['Sync APIs now', 'apis'], ['Sync IAM roles now', 'roles'], ['Sync groups now', 'groups']]) {
    await runSync(admin, testInfo, button, catalog);
  }

  // Naming the owners: a misspelt group is refused next to the field, what was typed kept.
  await openApi(admin, testInfo);
  const form = admin.getByTestId('owner-form');
  await form.getByLabel(/Owner group/).fill('Gatehouse admns');
  await form.getByRole('button', { name: 'Set owners' }).click();
  await expect(admin.locator('#owner-group-error')).toContainText('No directory group is named “Gatehouse admns”');
  await expect(admin.getByTestId('owner-form').getByLabel(/Owner group/)).toHaveValue('Gatehouse admns');
  // Named for every API with the team's tag, not only this one.
  await admin.getByTestId('owner-form').getByLabel('Owners of').selectOption({ label: 'Every API tagged team=logistics' });
  await admin.getByTestId('owner-form').getByLabel(/Owner group/).fill(OWNERS);
  await admin.getByTestId('owner-form').getByRole('button', { name: 'Set owners' }).click();
  await expect(admin.getByTestId('api-owner')).toContainText(`${OWNERS} (for every API tagged team=logistics)`);
  expect(errors).toEqual([]);
  await expectNoAxeViolations(admin, testInfo);
  await screenshot(admin, testInfo, 'api-owners');

  // The group bound to the role and a grant on the API, drafted and submitted.
  await bindInDraft(admin, testInfo, GROUP, ROLE);
  const grant = admin.getByTestId('grant-form');
  await pick(grant.getByLabel('Role', { exact: true }), `${ROLE} `);
  await pick(grant.getByLabel('API'), `${API} `);
  await grant.getByLabel('Method').selectOption(method);
  await grant.getByLabel(/Resource path/).fill('/items/{sku}');
  await grant.getByLabel(/Stage/).fill('prod');
  await grant.getByRole('button', { name: 'Add to my change set' }).click();
  await admin.getByRole('link', { name: /change set \d+/ }).first().click();
  await expect(admin.getByRole('heading', { level: 1 })).toContainText('draft');
  await ready(admin, testInfo);
  const title = `${GROUP} ${method}s items (${testInfo.project.name})`;
  await admin.getByLabel('Title').fill(title);
  await admin.getByLabel(/Justification/).fill('Handhelds in the warehouse look items up by SKU (CHG-3101).');
  await admin.getByRole('button', { name: 'Submit for review' }).click();
  await expect(admin.getByRole('heading', { level: 1 })).toContainText('submitted');
  await expect(admin.getByTestId('owner-approvals')).toHaveText(`${API}: waiting for a member of ${OWNERS}`);
  const id = admin.url().match(/\/change-sets\/(\d+)/)![1];

  // A reviewer who is not an owner: the queue says it needs an owner; the approval counts, but
  // the change set stays submitted and nothing is applied.
  const rita = await signedIn(browser, testInfo, 'reviewer', '/reviews');
  const ritaRow = rita.getByTestId('change-set-table').getByRole('row', { name: new RegExp(title.replace(/[()]/g, '\\$&')) }).first();
  await expect(ritaRow.getByTestId('waits-on')).toHaveText(`Needs an owner of ${API} (${OWNERS})`);
  await rita.goto(`/change-sets/${id}`);
  await ready(rita, testInfo);
  await rita.getByLabel('Comment').fill('Read-only lookups; fine.');
  await rita.getByRole('button', { name: 'Approve' }).click();
  // (The answer's message shows with JavaScript; without it the page reloads, and its facts tell.)
  if (testInfo.project.name === 'js-on') {
    await expect(rita.getByText(`Your approval is recorded; it still needs an approval from an owner of ${API} (${OWNERS}).`)).toBeVisible();
  }
  await rita.goto(`/change-sets/${id}`);
  await expect(rita.getByRole('heading', { level: 1 })).toContainText('submitted');
  await expect(rita.getByTestId('approvals')).toHaveText('1 of 1');
  await expect(rita.getByTestId('owner-approvals')).toHaveText(`${API}: waiting for a member of ${OWNERS}`);
  await screenshot(rita, testInfo, 'owner-approval-waiting');

  // The owner sees it waiting on them (Home says so too), and approves: now it is applied.
  const sam = await signedIn(browser, testInfo, 'admin-reviewer', '/');
  await expect(sam.getByTestId('home-to-review').locator('li', { hasText: title }).getByTestId('waits-on'))
    .toHaveText(`Waits on you: owner of ${API}`);
  await sam.goto('/reviews');
  const samRow = sam.getByTestId('change-set-table').getByRole('row', { name: new RegExp(title.replace(/[()]/g, '\\$&')) }).first();
  await expect(samRow.getByTestId('waits-on')).toHaveText(`Waits on you: owner of ${API}`);
  await screenshot(sam, testInfo, 'owner-queue');
  await samRow.getByRole('link', { name: title }).click();
  await ready(sam, testInfo);
  await sam.getByLabel('Comment').fill('Owner: yes.');
  await sam.getByRole('button', { name: 'Approve' }).click();
  await expect(sam.getByRole('heading', { level: 1 })).toContainText('approved');
  await expect(sam.getByTestId('owner-approvals')).toContainText(`${API}: approved by Sam Both`);
  await expect(sam.getByTestId('timeline')).toContainText('applied it to the mappings');

  // Owners cleared again: the API page says the usual approvals are enough.
  await openApi(admin, testInfo);
  await admin.getByTestId('owner-form').getByLabel('Owners of').selectOption({ label: 'Every API tagged team=logistics' });
  await admin.getByTestId('owner-form').getByLabel(/Owner group/).fill('');
  await admin.getByTestId('owner-form').getByRole('button', { name: 'Set owners' }).click();
  await expect(admin.getByTestId('api-owner')).toContainText('No owners');
});
