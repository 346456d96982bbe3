import { expect, test } from '@playwright/test';
import { expectNoAxeViolations, ready, screenshot, signIn, watchConsole } from './helpers';

const SECRET = /^gth_[0-9a-f]{64}$/;

test('a person makes a token, sees its secret once, uses it on the REST API and revokes it', async ({ page }, testInfo) => {
  const errors = watchConsole(page);
  await signIn(page, testInfo, 'auditor');
  await page.getByTestId('tokens-link').click();
  await expect(page).toHaveURL(/\/tokens$/);
  await ready(page, testInfo);
  await expect(page.getByRole('heading', { name: 'API tokens', level: 1 })).toBeVisible();

  // A wrong field is said next to it, and nothing is made.
  await page.getByLabel('Name', { exact: true }).fill('');
  await page.getByLabel('Expires after (days)').fill('400');
  await page.getByRole('button', { name: 'Make token' }).click();
  await expect(page.locator('#token-name-error')).toContainText('Name the token');
  await expect(page.locator('#token-days-error')).toContainText('1 to 365');
  await expect(page.getByTestId('fresh-token')).toHaveCount(0);
  await ready(page, testInfo);

  const name = `reports ${testInfo.project.name} ${Date.now()}`;
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Expires after (days)').fill('7');
  await page.getByRole('button', { name: 'Make token' }).click();
  const fresh = page.getByTestId('fresh-token');
  await expect(fresh).toContainText(name);
  const secret = (await page.getByTestId('token-secret').textContent())!.trim();
  expect(secret).toMatch(SECRET);
  await screenshot(page, testInfo, 'tokens-made');

  // The token works on the REST API (as the auditor, reading only).
  const me = await page.request.get('/api/v1/me', { headers: { Authorization: `Bearer ${secret}` } });
  expect(me.status()).toBe(200);
  expect(await me.json()).toMatchObject({ kind: 'person', scopes: ['read'] });
  const draft = await page.request.post('/api/v1/change-sets', { headers: { Authorization: `Bearer ${secret}` }, data: {} });
  expect(draft.status()).toBe(403);

  // Shown once: the page read again has the token, never its secret.
  await page.goto('/tokens');
  await ready(page, testInfo);
  await expect(page.getByTestId('fresh-token')).toHaveCount(0);
  const row = page.locator('tr', { hasText: name });
  await expect(row.getByTestId('token-status')).toHaveText('active');
  await expect(row).toContainText('(2 requests)');
  expect(await page.content()).not.toContain(secret);
  await expectNoAxeViolations(page, testInfo);

  await row.getByTestId('revoke-token').click();
  await expect(page.locator('tr', { hasText: name }).getByTestId('token-status')).toContainText('revoked');
  const after = await page.request.get('/api/v1/me', { headers: { Authorization: `Bearer ${secret}` } });
  expect(after.status()).toBe(401);
  expect((await after.json()).detail).toContain('revoked');
  await screenshot(page, testInfo, 'tokens-revoked');
  expect(errors).toEqual([]);
});

test('an admin makes a service token that may push but never approve; the reference lists it all', async ({ page }, testInfo) => {
  const errors = watchConsole(page);
  await signIn(page, testInfo, 'admin', '/tokens');
  const service = `e2e-${testInfo.project.name}-${Date.now() % 100000}`;
  await page.getByLabel('Name', { exact: true }).fill(`pipeline ${service}`);
  await page.getByTestId('kind-service').check();
  await page.getByLabel("Service identity's name").fill(service);
  await page.getByLabel(/^draft/).check();
  await page.getByLabel(/^push/).check();
  await page.getByRole('button', { name: 'Make token' }).click();
  const secret = (await page.getByTestId('token-secret').textContent())!.trim();
  expect(secret).toMatch(SECRET);
  const me = await page.request.get('/api/v1/me', { headers: { Authorization: `Bearer ${secret}` } });
  expect(await me.json()).toMatchObject({ kind: 'service', acts_as: expect.stringContaining(`service ${service}`) });
  const review = await page.request.post('/api/v1/change-sets/1/reviews', {
    headers: { Authorization: `Bearer ${secret}` }, data: { decision: 'approve' },
  });
  expect(review.status()).toBe(403);
  expect((await review.json()).detail).toContain('separation of duties');

  await page.goto('/api/v1/docs');
  await expect(page.getByRole('heading', { name: 'REST API reference' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'POST /api/v1/change-sets', exact: true })).toBeVisible();
  await expect(page.getByTestId('problem-kinds')).toContainText('/api/v1/docs#problem-forbidden');
  await screenshot(page, testInfo, 'api-reference');
  expect(errors).toEqual([]);
});
