import { test, expect } from '@playwright/test';
import fs from 'node:fs';
import { bindInDraft, expectNoAxeViolations, pick, ready, runSync, screenshot, signIn, signedIn, watchConsole } from './helpers';

// Access requests, end to end: a person without any Gatehouse role asks for a role for
// themselves, a reviewer sees it marked in the queue and approves it, an admin pushes it (an
// Identity Center user assignment), and when Gatehouse's clock passes its end (moved by the
// clock setting, not by waiting) Gatehouse revokes it by itself. Tagged @clock: it moves the
// clock, so it runs alone (see e2e.sh).
const CLOCK_FILE = process.env.GATEHOUSE_CLOCK_SKEW_FILE ?? '';
const ROLE = 'gatehouse-orders-writers';

function skewSeconds(): number {
  try { return Number(fs.readFileSync(CLOCK_FILE, 'utf8').trim()) || 0; } catch { return 0; }
}

test('a person without a role finds the request page from "no access"', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'norole', '/');
  // (Home answers 403 to her, which the browser logs: watched from the request page on.)
  const errors = watchConsole(page);
  await page.getByTestId('request-access-link').click();
  await expect(page).toHaveURL(/\/requests$/);
  await ready(page, testInfo);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Request access');
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Request access' }))
    .toHaveAttribute('aria-current', 'page');
  expect(errors).toEqual([]);
  // The other pages stay closed.
  const response = await page.goto('/change-sets');
  expect(response?.status()).toBe(403);
});

test('a person asks for a role, a reviewer approves it, it is pushed and ends at its time @clock', async ({ browser }, testInfo) => {
  test.skip(!CLOCK_FILE, 'needs GATEHOUSE_CLOCK_SKEW_FILE (set by e2e.sh)');
  // Each project binds a group no other test binds to the role and grants it a route of its
  // own (the group page grants its groups' roles), so the role may call something.
  const [group, method] = testInfo.project.name === 'js-on' ? ['Billing analysts', 'POST'] : ['Break-glass admins', 'GET'];
  const admin = await signedIn(browser, testInfo, 'admin', '/sync');
  // People with a role find the request page beside their name.
  await expect(admin.getByTestId('requests-link')).toHaveAttribute('href', '/requests');
  for (const [button, catalog] of [['Sync APIs now', 'apis'], ['Sync IAM roles now', 'roles'], ['Sync groups now', 'groups']]) {
    await runSync(admin, testInfo, button, catalog);
  }
  await bindInDraft(admin, testInfo, group, ROLE);
  const grant = admin.getByTestId('grant-form');
  await pick(grant.getByLabel('Role', { exact: true }), `${ROLE} `);
  await pick(grant.getByLabel('API'), 'orders-api ');
  await grant.getByLabel('Method').selectOption(method);
  await grant.getByLabel(/Resource path/).fill('/orders/{orderId}/items');
  await grant.getByLabel(/Stage/).fill('prod');
  await grant.getByRole('button', { name: 'Add to my change set' }).click();
  await admin.getByRole('link', { name: /change set \d+/ }).first().click();
  await ready(admin, testInfo);
  await admin.getByLabel('Title').fill(`${group} write order items (${testInfo.project.name})`);
  await admin.getByLabel(/Justification/).fill('Order writers edit the items of an order (CHG-4410).');
  await admin.getByRole('button', { name: 'Submit for review' }).click();
  await expect(admin.getByRole('heading', { level: 1 })).toContainText('submitted');
  const grantId = admin.url().match(/\/change-sets\/(\d+)/)![1];
  const rita = await signedIn(browser, testInfo, 'reviewer', `/change-sets/${grantId}`);
  await rita.getByLabel('Comment').fill('Fine.');
  await rita.getByRole('button', { name: 'Approve' }).click();
  await expect(rita.getByRole('heading', { level: 1 })).toContainText('approved');

  // Nora, with no Gatehouse role, asks for the role. A request without a role or a reason is
  // refused next to each field and makes nothing.
  const nora = await signedIn(browser, testInfo, 'norole', '/requests');
  const errors = watchConsole(nora);
  const form = nora.getByTestId('request-form');
  await form.getByLabel('Why you need it').fill('pls');
  await form.getByRole('button', { name: 'Ask for access' }).click();
  await expect(nora.locator('#request-role-error')).toContainText('Choose the role you need');
  await expect(nora.locator('#request-why-error')).toContainText('at least 10 characters');
  await expect(nora.getByTestId('request-form').getByLabel('Why you need it')).toHaveValue('pls');
  await expect(nora.getByTestId('requestable-roles')).toContainText(`${method} /orders/{orderId}/items`);
  const why = `Covering order fixes for the week (${testInfo.project.name}).`;
  await pick(nora.getByTestId('request-form').getByLabel('Role'), `${ROLE} `);
  await nora.getByTestId('request-form').getByLabel('For').selectOption({ label: '8 hours' });
  await nora.getByTestId('request-form').getByLabel('Why you need it').fill(why);
  await nora.getByTestId('request-form').getByRole('button', { name: 'Ask for access' }).click();
  // (With JavaScript the list reloads in place; without, the form's answer is the page again.)
  const row = nora.getByTestId('my-requests').getByRole('row').nth(1);
  await expect(row).toContainText(`Access request: Nora Nobody → ${ROLE}`);
  await expect(row.getByTestId('request-outcome')).toContainText('Waiting for a reviewer.');
  const id = await row.getAttribute('data-request');
  await expectNoAxeViolations(nora, testInfo);
  await screenshot(nora, testInfo, 'request-waiting');

  // The reviewer's queue marks it; the change set says who asks; approving covers "until".
  await rita.goto('/reviews');
  const queued = rita.getByTestId('change-set-table').getByRole('row').filter({ hasText: `Access request: Nora Nobody → ${ROLE}` }).first();
  await expect(queued.getByTestId('request-badge')).toHaveText('Access request');
  await screenshot(rita, testInfo, 'request-in-queue');
  await rita.goto(`/change-sets/${id}`);
  await ready(rita, testInfo);
  await expect(rita.getByTestId('request-fact')).toContainText('asks for this for themselves');
  await rita.getByLabel('Comment').fill('For the week of fixes.');
  await rita.getByRole('button', { name: /Approve until/ }).click();
  await expect(rita.getByRole('heading', { level: 1 })).toContainText('approved');

  // An admin pushes it: Identity Center assigns Nora herself.
  await admin.goto(`/change-sets/${id}`);
  await ready(admin, testInfo);
  await expect(admin.getByTestId('push-plan')).toContainText(`assign user Nora Nobody to permission set ${ROLE}`);
  await admin.getByRole('button', { name: 'Push to AWS' }).click();
  await expect(admin.getByRole('heading', { level: 1 })).toContainText('pushed', { timeout: 30_000 });

  // Nora reads the outcome and the reviewer's words.
  await nora.goto('/requests');
  const granted = nora.getByTestId('my-requests').locator(`tr[data-request="${id}"]`);
  await expect(granted.getByTestId('request-outcome')).toContainText('Granted: you may use the role until it ends.');
  await expect(granted.getByTestId('request-outcome')).toContainText('Rita Reviewer approved: “For the week of fixes.”');
  await screenshot(nora, testInfo, 'request-granted');

  // Nine hours later by Gatehouse's clock, the access has ended and was revoked by itself.
  fs.writeFileSync(CLOCK_FILE, String(skewSeconds() + 9 * 3600));
  await expect(async () => {
    await nora.reload();
    await expect(nora.locator(`tr[data-request="${id}"]`).getByTestId('request-outcome'))
      .toContainText('Ended: the access was revoked at its end.', { timeout: 1_000 });
  }).toPass({ timeout: 45_000 });
  await screenshot(nora, testInfo, 'request-ended');
  expect(errors).toEqual([]);
});
