import { expect, type Browser, type Locator, type Page, type TestInfo } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import fs from 'node:fs';
import path from 'node:path';

export const PAGES = ['Home', 'APIs', 'Groups', 'Roles', 'Mappings', 'Change sets', 'Reviews', 'Drift', 'History', 'Sync'];
const READERS = ['Home', 'APIs', 'Groups', 'Roles', 'Mappings', 'Change sets', 'Drift', 'History'];

// (Everyone signed in may also ask for access: beside their name, or — without a role — as the
// only link of the navigation.)
export const DEMO_USERS = {
  admin: { name: 'Ada Admin', roles: 'admin', nav: [...READERS, 'Sync'] },
  reviewer: { name: 'Rita Reviewer', roles: 'reviewer', nav: [...READERS.slice(0, 6), 'Reviews', 'Drift', 'History'] },
  auditor: { name: 'Arun Auditor', roles: 'auditor', nav: READERS },
  'admin-reviewer': { name: 'Sam Both', roles: 'admin, reviewer', nav: PAGES },
} as const;

export const PATHS: Record<string, string> = {
  Home: '/', APIs: '/apis', Groups: '/groups', Roles: '/roles', Mappings: '/mappings', 'Change sets': '/change-sets',
  Reviews: '/reviews', Drift: '/drift', History: '/history', Sync: '/sync', 'Request access': '/requests',
};

const jsOn = (testInfo: TestInfo) => testInfo.project.name === 'js-on';

/** Fails the test on any console error or uncaught exception in the page. */
export function watchConsole(page: Page): string[] {
  const errors: string[] = [];
  // With the address: "Failed to load resource" says nothing of which one.
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`${m.text()} (${m.location().url} on ${page.url()})`); });
  page.on('pageerror', (e) => errors.push(e.message));
  return errors;
}

/** Everything each page logged, for the message of a page that did not hydrate. */
const pageLogs = new WeakMap<Page, string[]>();
function recordLog(page: Page) {
  if (pageLogs.has(page)) return;
  const log: string[] = [];
  pageLogs.set(page, log);
  page.on('console', (m) => log.push(`${m.type()}: ${m.text().slice(0, 500)}`));
  page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
}

/** Waits until the page is usable: hydrated when JavaScript is on. */
export async function ready(page: Page, testInfo: TestInfo) {
  if (!jsOn(testInfo)) return;
  recordLog(page);
  try {
    // The test build's wasm is a debug build (9 MB): under two busy workers it can take a while.
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true', { timeout: 30_000 });
  } catch (e) {
    throw new Error(`${page.url()} did not hydrate; the page logged:\n${(pageLogs.get(page) ?? []).join('\n')}\n${e}`);
  }
}

/** Signs in through the real provider without clicking (the provider honours login_hint). */
export async function signIn(page: Page, testInfo: TestInfo, user: string, next = '/') {
  recordLog(page);
  await page.goto(`/auth/login?login_hint=${encodeURIComponent(user)}&next=${encodeURIComponent(next)}`);
  await expect(page).toHaveURL(new RegExp(`${next.replace(/[/?]/g, '\\$&')}$`));
  await ready(page, testInfo);
}

/** A browser of its own (its own cookies) signed in as `user`, with JavaScript on or off as the
 * project says: for tests where several people act. */
export async function signedIn(browser: Browser, testInfo: TestInfo, user: string, next = '/'): Promise<Page> {
  const context = await browser.newContext({ baseURL: testInfo.project.use.baseURL, javaScriptEnabled: jsOn(testInfo) });
  const page = await context.newPage();
  await signIn(page, testInfo, user, next);
  return page;
}

/** On `group`'s page, finds `role` and adds "bind group → role" to the signed-in admin's draft;
 * returns once the page links the draft. */
export async function bindInDraft(page: Page, testInfo: TestInfo, group: string, role: string) {
  await page.goto(`/groups?q=${encodeURIComponent(group)}`);
  await page.getByTestId('group-table').getByRole('link', { name: group }).click();
  await ready(page, testInfo);
  await page.getByLabel('Find a role by name or ARN').fill(role);
  await page.getByTestId('role-search').getByRole('button', { name: 'Find' }).click();
  await expect(page).toHaveURL(new RegExp(`[?&]role=${role}`));
  await ready(page, testInfo);
  const bind = page.getByTestId('bind-form');
  await pick(bind.getByLabel('Role (Gatehouse-managed)'), `${role} `);
  await bind.getByRole('button', { name: 'Add to my change set' }).click();
  await expect(page.getByRole('link', { name: /change set \d+/ }).first()).toBeVisible();
  await ready(page, testInfo);
}

/** axe runs inside the page, so only with JavaScript on; the HTML is the same without it. */
export async function expectNoAxeViolations(page: Page, testInfo: TestInfo) {
  if (!jsOn(testInfo)) return;
  const results = await new AxeBuilder({ page }).analyze();
  const summary = results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  expect(summary).toEqual([]);
}

export async function screenshot(page: Page, testInfo: TestInfo, name: string) {
  const dir = path.join(process.env.SCREENSHOTS ?? 'screenshots', testInfo.project.name);
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}

/** Starts a catalog's sync from the Sync page and waits for its newest run to finish. */
export async function runSync(page: Page, testInfo: TestInfo, button: string, catalog: string) {
  // The form posts and the page comes back saying so beside the button (a run of the other
  // project's, of the same catalog, may be the one going on: it finishes too).
  await page.getByRole('button', { name: button }).click();
  const card = page.locator(`section.card[data-catalog=${catalog}]`);
  await expect(card.getByRole('status').or(card.getByRole('alert')))
    .toContainText(/Run \d+ of the .+ started|already running/);
  const newest = page.locator(`[data-testid=sync-runs] tbody tr[data-catalog=${catalog}]`).first();
  // The page follows the run: its region fetched again with JavaScript, reloading itself without.
  await expect(newest).toContainText('finished', { timeout: 30_000 });
  return newest;
}

/** Picks the option of a <select> whose text starts with `text`. */
export async function pick(select: Locator, text: string) {
  await expect(select).toBeVisible();
  const options = await select.locator('option').allTextContents();
  const label = options.find((o) => o.startsWith(text));
  if (!label) throw new Error(`no option starts with ${text}: ${options.join(', ')}`);
  await select.selectOption({ label });
}

// IAM on moto, called the way a person with the AWS CLI would (moto routes by the credential
// scope of the Authorization header and does not check the signature).
async function iam(params: Record<string, string>): Promise<string> {
  const response = await fetch(process.env.AWS_ENDPOINT_URL!, {
    method: 'POST',
    headers: {
      Authorization: 'AWS4-HMAC-SHA256 Credential=testing/20261201/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0',
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ Version: '2010-05-08', ...params }).toString(),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`IAM ${params.Action}: ${response.status} ${text}`);
  return text;
}

// IAM Identity Center (JSON protocol) on moto, the same way.
async function sso(operation: string, params: Record<string, unknown>): Promise<any> {
  const response = await fetch(process.env.AWS_ENDPOINT_URL!, {
    method: 'POST',
    headers: {
      Authorization: 'AWS4-HMAC-SHA256 Credential=testing/20261201/us-east-1/sso/aws4_request, SignedHeaders=host, Signature=0',
      'Content-Type': 'application/x-amz-json-1.1',
      'X-Amz-Target': `SWBExternalService.${operation}`,
    },
    body: JSON.stringify(params),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`SSO ${operation}: ${response.status} ${text}`);
  return JSON.parse(text || '{}');
}

function widened(doc: any) {
  const resources: string[] = doc.Statement[0].Resource;
  doc.Statement[0].Resource = [...resources, ...resources.map((r) => r.replace('/GET/', '/DELETE/'))];
  return JSON.stringify(doc);
}

/** Edits Gatehouse's policy for `role` by hand in AWS: every route it allows for GET is allowed
 *  for DELETE too. In identity-center mode (the demo's) that is the inline policy of the
 *  permission set named after the role; otherwise the role's inline policy. */
export async function widenPolicyByHand(role: string) {
  if ((process.env.GATEHOUSE_ENFORCEMENT ?? 'none') === 'identity-center') {
    const { Instances } = await sso('ListInstances', {});
    const InstanceArn = Instances[0].InstanceArn;
    const { PermissionSets } = await sso('ListPermissionSets', { InstanceArn });
    for (const PermissionSetArn of PermissionSets as string[]) {
      const { PermissionSet } = await sso('DescribePermissionSet', { InstanceArn, PermissionSetArn });
      if (PermissionSet.Name !== role) continue;
      const { InlinePolicy } = await sso('GetInlinePolicyForPermissionSet', { InstanceArn, PermissionSetArn });
      await sso('PutInlinePolicyToPermissionSet', { InstanceArn, PermissionSetArn, InlinePolicy: widened(JSON.parse(InlinePolicy)) });
      return;
    }
    throw new Error(`no permission set ${role}`);
  }
  const xml = await iam({ Action: 'GetRolePolicy', RoleName: role, PolicyName: 'gatehouse-invoke' });
  const encoded = xml.match(/<PolicyDocument>([^<]*)<\/PolicyDocument>/)![1];
  await iam({ Action: 'PutRolePolicy', RoleName: role, PolicyName: 'gatehouse-invoke', PolicyDocument: widened(JSON.parse(decodeURIComponent(encoded))) });
}

/** An API access token from the demo provider, got as a CLI gets one (authorization code with
 *  PKCE, public client `gatehouse-cli`), signed in as the demo user `user`. */
export async function accessToken(user: string, resource = 'api://gatehouse-apis'): Promise<string> {
  const { createHash } = await import('node:crypto');
  const issuer = `${process.env.OIDC_ORIGIN}/3f2b8c1e-5d4a-4e8b-9c7d-1a2b3c4d5e6f/v2.0`;
  const verifier = 'an-end-to-end-verifier-of-enough-length-0123456789abcdef';
  const redirect = 'http://127.0.0.1/cli/callback';
  let url = `${issuer}/auth?${new URLSearchParams({
    client_id: 'gatehouse-cli', response_type: 'code', redirect_uri: redirect, scope: 'openid', resource,
    login_hint: user, code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
  })}`;
  const cookies = new Map<string, string>();
  for (let i = 0; i < 10 && !url.startsWith(redirect); i++) {
    const cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    for (const set of response.headers.getSetCookie()) {
      const pair = set.split(';')[0];
      const at = pair.indexOf('=');
      cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
    url = new URL(response.headers.get('location')!, url).toString();
  }
  const code = new URL(url).searchParams.get('code')!;
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'authorization_code', code, client_id: 'gatehouse-cli', redirect_uri: redirect, code_verifier: verifier }),
  });
  const tokens = await response.json();
  if (!tokens.access_token) throw new Error(`no access token: ${JSON.stringify(tokens)}`);
  return tokens.access_token;
}
