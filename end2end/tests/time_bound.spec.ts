import { test, expect, type TestInfo } from '@playwright/test';
import fs from 'node:fs';
import { bindInDraft, expectNoAxeViolations, pick, ready, runSync, screenshot, signedIn } from './helpers';

// Time-bound access, end to end: an admin asks for a binding until a time, the reviewer approves
// it "until" then, it is pushed, and when Gatehouse's clock passes the end (moved by the clock
// setting, GATEHOUSE_CLOCK_SKEW_FILE, not by waiting) Gatehouse revokes and pushes it itself.
// Tagged @clock: the tests that move the clock run alone, one at a time (see e2e.sh).
const CLOCK_FILE = process.env.GATEHOUSE_CLOCK_SKEW_FILE ?? '';
const group = (testInfo: TestInfo) => (testInfo.project.name === 'js-on' ? 'Interns 2026' : 'Data science');
const ROLE = 'gatehouse-orders-writers';

function skewSeconds(): number {
  try { return Number(fs.readFileSync(CLOCK_FILE, 'utf8').trim()) || 0; } catch { return 0; }
}

/** `YYYY-MM-DDTHH:MM` (UTC) of Gatehouse's clock plus `minutes`. */
function serverTimePlus(minutes: number): string {
  const at = new Date(Date.now() + skewSeconds() * 1000 + minutes * 60_000);
  return at.toISOString().slice(0, 16);
}

test('access approved until a time is revoked and pushed by Gatehouse when the time comes @clock', async ({ browser }, testInfo) => {
  test.skip(!CLOCK_FILE, 'needs GATEHOUSE_CLOCK_SKEW_FILE (set by e2e.sh)');
  const g = group(testInfo);
  const admin = await signedIn(browser, testInfo, 'admin', '/sync');
  await runSync(admin, testInfo, 'Sync IAM roles now', 'roles');
  await runSync(admin, testInfo, 'Sync groups now', 'groups');

  // Bind the role to the group in a draft.
  await bindInDraft(admin, testInfo, g, ROLE);
  await admin.getByRole('link', { name: /change set \d+/ }).first().click();
  await expect(admin.getByRole('heading', { level: 1 })).toContainText('draft');
  await ready(admin, testInfo);

  // An end too soon is refused next to its field, with what was typed kept.
  const title = `${g} until the end of the course`;
  await admin.getByLabel('Title').fill(title);
  await admin.getByLabel(/Justification/).fill('Temporary access for the training week, then it must end.');
  const tooSoon = serverTimePlus(5);
  await admin.getByLabel(/Access ends/).fill(tooSoon);
  await admin.getByRole('button', { name: 'Submit for review' }).click();
  await expect(admin.locator('#cs-access-ends-error')).toContainText('at least 15 minutes from now');
  await expect(admin.getByLabel(/Access ends/)).toHaveValue(tooSoon);
  await expect(admin.getByRole('heading', { level: 1 })).toContainText('draft');
  const end = serverTimePlus(120);
  await admin.getByLabel(/Access ends/).fill(end);
  await admin.getByRole('button', { name: 'Submit for review' }).click();
  await expect(admin.getByRole('heading', { level: 1 })).toContainText('submitted');
  const shownEnd = `${end.replace('T', ' ')} UTC`;
  await expect(admin.getByTestId('access-ends')).toHaveText(shownEnd);
  await expectNoAxeViolations(admin, testInfo);
  const id = admin.url().match(/\/change-sets\/(\d+)/)![1];

  // The reviewer approves exactly "until" that time.
  const reviewer = await signedIn(browser, testInfo, 'reviewer', `/change-sets/${id}`);
  await expect(reviewer.getByTestId('access-end')).toContainText(`Time-bound: at ${shownEnd} Gatehouse revokes what this change set adds`);
  await reviewer.getByLabel('Comment').fill('For the training week only.');
  await reviewer.getByRole('button', { name: `Approve until ${shownEnd}` }).click();
  await expect(reviewer.getByRole('heading', { level: 1 })).toContainText('approved');
  await screenshot(reviewer, testInfo, 'reviewer-time-bound-approved');

  // The admin pushes it.
  await admin.goto(`/change-sets/${id}`);
  await ready(admin, testInfo);
  await expect(admin.getByTestId('push-plan')).toContainText(`assign group ${g} to permission set ${ROLE}`);
  await admin.getByRole('button', { name: 'Push to AWS' }).click();
  await expect(admin.getByRole('heading', { level: 1 })).toContainText('pushed', { timeout: 30_000 });

  // Home tells people the access ends soon.
  await admin.goto('/');
  await expect(admin.getByTestId('home-ending').getByRole('listitem').filter({ hasText: title })).toContainText(`ends at ${shownEnd}`);
  await screenshot(admin, testInfo, 'admin-home-access-ending');
  await admin.goto(`/change-sets/${id}`);

  // Gatehouse's clock moves three hours on: the end has come.
  fs.writeFileSync(CLOCK_FILE, String(skewSeconds() + 3 * 3600));
  await expect(async () => {
    await admin.reload();
    await expect(admin.getByTestId('access-end')).toContainText(`ended at ${shownEnd} and was revoked by change set`, { timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
  await screenshot(admin, testInfo, 'admin-time-bound-ended');
  // Nothing is left to roll back: Gatehouse revoked it.
  await expect(admin.getByRole('button', { name: /Roll back/ })).toHaveCount(0);
  await admin.getByTestId('access-end').getByRole('link').click();
  await expect(admin.getByTestId('revokes')).toContainText(`change set ${id}`);
  // Approved under the original approval, and pushed by Gatehouse itself.
  await expect(async () => {
    await admin.reload();
    await expect(admin.getByRole('heading', { level: 1 })).toContainText('pushed', { timeout: 1_000 });
  }).toPass({ timeout: 45_000 });
  await expect(admin.getByTestId('items')).toContainText(`${g}`);
  await expect(admin.getByTestId('approvals')).toHaveText(`under change set ${id}'s`);
  await expect(admin.getByTestId('timeline')).toContainText('succeeded and read back');
  await expectNoAxeViolations(admin, testInfo);
  await screenshot(admin, testInfo, 'admin-revocation-pushed');
});
