import { test, expect, type Page, type TestInfo } from '@playwright/test';
import fs from 'node:fs';
import { bindInDraft, expectNoAxeViolations, pick, ready, runSync, screenshot, signedIn, watchConsole } from './helpers';

// An API's longest access, and a request for routes: an admin limits an API to 8 hours (a
// wrong value said next to the field), a change set giving access to it without an end is
// refused next to "Access ends" and goes through with one, and a person without a Gatehouse
// role asks for one of its routes, for too long first. @serial: the limit holds for the whole
// API while set, and other tests give access to these APIs without an end; it is cleared after.
const CLOCK_FILE = process.env.GATEHOUSE_CLOCK_SKEW_FILE ?? '';
const plan = (testInfo: TestInfo) => testInfo.project.name === 'js-on'
  ? { api: 'payments-api', role: 'gatehouse-payments-operators', group: 'Payments on-call', method: 'POST', path: '/payments/{paymentId}/refunds' }
  : { api: 'inventory-api', role: 'gatehouse-inventory-readers', group: 'Orders on-call', method: 'PATCH', path: '/items/{sku}' };

/** Gatehouse's clock (the @clock tests move it forward through the skew file). */
function gatehouseNow(): Date {
  let skew = 0;
  try { skew = Number(fs.readFileSync(CLOCK_FILE, 'utf8').trim()) || 0; } catch { /* no skew */ }
  return new Date(Date.now() + skew * 1000);
}

async function apiPage(page: Page, testInfo: TestInfo, api: string) {
  await page.goto('/apis');
  await page.getByTestId('api-table').getByRole('link', { name: api }).click();
  await ready(page, testInfo);
}

async function setLongest(page: Page, amount: string, unit = 'hours') {
  const form = page.getByTestId('longest-form');
  await form.getByLabel(/Longest access/).fill(amount);
  await form.getByLabel('Unit').selectOption(unit);
  await form.getByRole('button', { name: 'Set longest access' }).click();
}

test('an API allows access for 8 hours at most, and a person asks for one of its routes @serial', async ({ browser }, testInfo) => {
  const p = plan(testInfo);
  const admin = await signedIn(browser, testInfo, 'admin', '/sync');
  const errors = watchConsole(admin);
  for (const [button, catalog] of [['Sync APIs now', 'apis'], ['Sync IAM roles now', 'roles'], ['Sync groups now', 'groups']]) {
    await runSync(admin, testInfo, button, catalog);
  }
  await apiPage(admin, testInfo, p.api);
  await expect(admin.getByTestId('api-longest')).toContainText('No longest access');
  await setLongest(admin, 'eight');
  await expect(admin.locator('#longest-amount-error')).toContainText('whole number');
  await expect(admin.getByTestId('api-longest')).toContainText('No longest access');
  await setLongest(admin, '8');
  await expect(admin.getByTestId('api-longest')).toContainText('lasts 8 hours at most');
  await screenshot(admin, testInfo, 'api-longest-access');
  try {
    // A group bound to a role that may call the API, and a grant on it: without an end, refused.
    await bindInDraft(admin, testInfo, p.group, p.role);
    const grant = admin.getByTestId('grant-form');
    await pick(grant.getByLabel('Role', { exact: true }), `${p.role} `);
    await pick(grant.getByLabel('API'), `${p.api} `);
    await grant.getByLabel('Method').selectOption(p.method);
    await grant.getByLabel(/Resource path/).fill(p.path);
    await grant.getByLabel(/Stage/).fill('prod');
    await grant.getByRole('button', { name: 'Add to my change set' }).click();
    await admin.getByRole('link', { name: /change set \d+/ }).first().click();
    await ready(admin, testInfo);
    // The form says the limit before anything is submitted.
    await expect(admin.getByTestId('access-longest')).toHaveText(`Required here: ${p.api} allows access for 8 hours at most.`);
    await admin.getByLabel('Title').fill(`${p.group} on ${p.api} for a shift (${testInfo.project.name})`);
    await admin.getByLabel(/Justification/).fill('On call for this shift only (INC-7781).');
    await admin.getByRole('button', { name: 'Submit for review' }).click();
    await expect(admin.locator('#cs-access-ends-error')).toContainText(`${p.api} allows access for 8 hours at most: set when this access ends.`);
    await expect(admin.getByRole('heading', { level: 1 })).toContainText('draft');
    await screenshot(admin, testInfo, 'change-set-longest-refused');
    // Four hours ahead by Gatehouse's clock (the field reads UTC).
    const end = new Date(gatehouseNow().getTime() + 4 * 3600 * 1000).toISOString().slice(0, 16);
    await admin.getByLabel(/Access ends/).fill(end);
    await admin.getByRole('button', { name: 'Submit for review' }).click();
    await expect(admin.getByRole('heading', { level: 1 })).toContainText('submitted');
    const id = admin.url().match(/\/change-sets\/(\d+)/)![1];
    const rita = await signedIn(browser, testInfo, 'reviewer', `/change-sets/${id}`);
    await rita.getByLabel('Comment').fill('For the shift.');
    await rita.getByRole('button', { name: /Approve until/ }).click();
    await expect(rita.getByRole('heading', { level: 1 })).toContainText('approved');

    // Nora, without a Gatehouse role, asks for that route: a day is too long for the API.
    const nora = await signedIn(browser, testInfo, 'norole', '/requests');
    const noraErrors = watchConsole(nora);
    await expect(nora.getByTestId('requestable-roles').getByRole('row', { name: new RegExp(p.role) })).toContainText('8 hours at most');
    const form = nora.getByTestId('route-request-form');
    const box = form.getByRole('row').filter({ hasText: `${p.method} ${p.path}` }).filter({ hasText: p.api }).getByRole('checkbox');
    await box.check();
    await form.getByLabel('For').selectOption({ label: '1 day' });
    await form.getByLabel('Why you need them').fill(`Refund fixes during my shift (${testInfo.project.name}).`);
    await form.getByRole('button', { name: 'Ask for these routes' }).click();
    await expect(nora.locator('#route-request-hours-error')).toContainText('8 hours at most: choose a shorter time');
    await expect(nora.getByTestId('route-request-form').getByRole('row').filter({ hasText: `${p.method} ${p.path}` }).filter({ hasText: p.api }).getByRole('checkbox')).toBeChecked();
    await screenshot(nora, testInfo, 'route-request-too-long');
    await nora.getByTestId('route-request-form').getByLabel('For').selectOption({ label: '8 hours' });
    await nora.getByTestId('route-request-form').getByRole('button', { name: 'Ask for these routes' }).click();
    const row = nora.getByTestId('my-requests').getByRole('row').filter({ hasText: /Access request: Nora Nobody → 1 route via/ }).first();
    await expect(row.getByTestId('request-outcome')).toContainText('Waiting for a reviewer.');
    await expectNoAxeViolations(nora, testInfo);
    await screenshot(nora, testInfo, 'route-request-waiting');
    // The reviewer reads what was asked for and what the role gives besides.
    const requestId = await row.getAttribute('data-request');
    await rita.goto(`/change-sets/${requestId}`);
    await ready(rita, testInfo);
    await expect(rita.getByTestId('request-fact')).toContainText('asks for this for themselves');
    await expect(rita.getByText(/Asked for 1 route: .*Given through role/s)).toBeVisible();
    // Nora withdraws it: the serial pass goes on without it.
    await nora.locator(`tr[data-request="${requestId}"]`).getByRole('button', { name: /Withdraw/ }).click();
    await expect(nora.locator(`tr[data-request="${requestId}"]`).getByTestId('request-outcome')).toContainText('Withdrawn.');
    expect(noraErrors).toEqual([]);
  } finally {
    await apiPage(admin, testInfo, p.api);
    await setLongest(admin, '');
    await expect(admin.getByTestId('api-longest')).toContainText('No longest access');
  }
  expect(errors).toEqual([]);
});
