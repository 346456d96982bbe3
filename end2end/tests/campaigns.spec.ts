import { test, expect } from '@playwright/test';
import fs from 'node:fs';
import { bindInDraft, expectNoAxeViolations, ready, runSync, screenshot, signedIn, watchConsole } from './helpers';

// An access review campaign from start to export: an admin's binding is approved; an auditor
// starts a campaign over its role with a named reviewer group; the reviewer (a member of it)
// certifies the binding "revoke" — refused without a reason, next to the field; the auditor
// closes it, the revoke becomes one change set the reviewer approves, and the campaign's
// events export with their manifest. Tagged @serial: both projects bind the same role, and two
// change sets open at once on one role make the later one stale (see e2e.sh).
const ROLE = 'gatehouse-orders-writers';
const REVIEWERS = 'Security reviewers';
const CLOCK_FILE = process.env.GATEHOUSE_CLOCK_SKEW_FILE ?? '';

/** Tomorrow by Gatehouse's clock, as a date input takes it. */
function tomorrow(): string {
  let skew = 0;
  try { skew = Number(fs.readFileSync(CLOCK_FILE, 'utf8').trim()) || 0; } catch { /* no skew */ }
  return new Date(Date.now() + skew * 1000 + 86_400_000).toISOString().slice(0, 10);
}

test('a campaign from start to export: certify, close, review the revocation, export the evidence @serial', async ({ browser }, testInfo) => {
  const group = testInfo.project.name === 'js-on' ? 'Inventory readers' : 'All engineering';
  const admin = await signedIn(browser, testInfo, 'admin', '/sync');
  await runSync(admin, testInfo, 'Sync IAM roles now', 'roles');
  await runSync(admin, testInfo, 'Sync groups now', 'groups');
  await bindInDraft(admin, testInfo, group, ROLE);
  await admin.getByRole('link', { name: /change set \d+/ }).first().click();
  await ready(admin, testInfo);
  await admin.getByLabel('Title').fill(`${group} write orders (${testInfo.project.name})`);
  await admin.getByLabel(/Justification/).fill('Order corrections for the quarterly count (CHG-5120).');
  await admin.getByRole('button', { name: 'Submit for review' }).click();
  await expect(admin.getByRole('heading', { level: 1 })).toContainText('submitted');
  const bindId = admin.url().match(/\/change-sets\/(\d+)/)![1];
  const rita = await signedIn(browser, testInfo, 'reviewer', `/change-sets/${bindId}`);
  await rita.getByLabel('Comment').fill('For the count.');
  await rita.getByRole('button', { name: 'Approve' }).click();
  await expect(rita.getByRole('heading', { level: 1 })).toContainText('approved');

  // The auditor starts a campaign over the role; a wrong field is named next to it.
  const arun = await signedIn(browser, testInfo, 'auditor', '/campaigns');
  const errors = watchConsole(arun);
  const form = arun.getByTestId('campaign-form');
  const name = `Order writers review (${testInfo.project.name})`;
  await form.getByLabel('Name').fill(name);
  await form.getByLabel(`role ${ROLE}`).check();
  await form.getByLabel('The members of this group:').check();
  await form.getByLabel('Reviewer group').fill('Nobody by this name');
  await form.getByLabel('Due by the end of').fill(tomorrow());
  await form.getByLabel('are kept').check();
  await form.getByRole('button', { name: 'Start the campaign' }).click();
  await expect(arun.locator('#campaign-group-error')).toContainText('No directory group is named');
  await expect(arun.getByTestId('campaign-form').getByLabel('Name')).toHaveValue(name);
  const again = arun.getByTestId('campaign-form');
  if (!(await again.getByLabel(`role ${ROLE}`).isChecked())) await again.getByLabel(`role ${ROLE}`).check();
  await again.getByLabel('The members of this group:').check();
  await again.getByLabel('Reviewer group').fill(REVIEWERS);
  await again.getByLabel('Due by the end of').fill(tomorrow());
  await again.getByRole('button', { name: 'Start the campaign' }).click();
  await expect(arun).toHaveURL(/\/campaigns\/\d+$/);
  await ready(arun, testInfo);
  await expect(arun.getByRole('heading', { level: 1 })).toHaveText(name);
  const campaignUrl = new URL(arun.url()).pathname;
  const campaignId = campaignUrl.split('/').pop()!;
  // An auditor is not in the reviewer group: nothing to certify, the reason said per line.
  const lines = arun.getByTestId('campaign-lines');
  await expect(lines.locator('tr', { hasText: group })).toContainText('for other reviewers');

  // Rita (in Security reviewers) finds what waits on her on Home and certifies it.
  await rita.goto('/');
  await ready(rita, testInfo);
  await rita.getByTestId('home-campaigns').getByRole('link', { name }).click();
  await expect(rita).toHaveURL(new RegExp(`/campaigns/${campaignId}\\?show=yours$`));
  await ready(rita, testInfo);
  const row = rita.getByTestId('campaign-lines').locator('tr', { hasText: group });
  await row.getByRole('button', { name: /^Revoke line/ }).click();
  await expect(rita.getByTestId('campaign-lines').locator('tr', { hasText: group }).locator('.field-error'))
    .toContainText('Say why this access should go');
  const reason = 'The quarterly count is over; nobody in the group edits orders now.';
  await rita.getByTestId('campaign-lines').locator('tr', { hasText: group }).getByRole('textbox').fill(reason);
  await rita.getByTestId('campaign-lines').locator('tr', { hasText: group }).getByRole('button', { name: /^Revoke line/ }).click();
  // Decided, it leaves "waiting on you"; the full list shows the decision and its reason.
  await expect(rita.getByText('Say why this access should go')).toHaveCount(0);
  await expect(rita.locator('tr', { hasText: group })).toHaveCount(0);
  await rita.goto(campaignUrl);
  await ready(rita, testInfo);
  const decided = rita.getByTestId('campaign-lines').locator('tr', { hasText: group });
  await expect(decided.getByTestId('line-decision')).toHaveText('revoke');
  await expect(decided).toContainText(reason);
  await expect(rita.getByTestId('campaign-progress')).toContainText('1 to revoke');
  await screenshot(rita, testInfo, 'campaign-in-progress');
  // Closing is for auditors and admins: no button for her.
  await expect(rita.getByTestId('close-campaign')).toHaveCount(0);

  // The auditor closes it now: the undecided lines are kept, the revoke goes to review.
  await arun.goto(campaignUrl);
  await ready(arun, testInfo);
  await expectNoAxeViolations(arun, testInfo);
  await arun.getByTestId('close-campaign').click();
  await expect(arun.getByTestId('campaign-state')).toContainText('closed');
  const revocation = arun.getByTestId('campaign-revocation');
  await expect(revocation).toContainText('submitted');
  const revocationId = (await revocation.getByRole('link').textContent())!.match(/\d+/)![0];
  await screenshot(arun, testInfo, 'campaign-closed');

  // The revocation is reviewed as usual: Rita approves it (Gatehouse wrote it, not she).
  await rita.goto(`/change-sets/${revocationId}`);
  await ready(rita, testInfo);
  await expect(rita.getByRole('heading', { level: 1 })).toContainText('submitted');
  await expect(rita.locator('p.justification')).toContainText(reason);
  await rita.getByLabel('Comment').fill('As the campaign decided.');
  await rita.getByRole('button', { name: 'Approve' }).click();
  await expect(rita.getByRole('heading', { level: 1 })).toContainText('approved');

  // The list shows it closed, with its tally.
  await arun.goto('/campaigns');
  await ready(arun, testInfo);
  await expect(arun.getByTestId('campaigns').locator(`tr[data-campaign="${campaignId}"]`)).toContainText('closed');
  await screenshot(arun, testInfo, 'campaigns-list');

  // The evidence: the campaign's events, exported with their manifest.
  await arun.goto(campaignUrl);
  await ready(arun, testInfo);
  await arun.getByTestId('export-campaign-csv').click();
  await expect(arun).toHaveURL(new RegExp(`/history\\?campaign=${campaignId}&export=\\d+`));
  await ready(arun, testInfo);
  await expect(arun.getByTestId('campaign-filter')).toContainText(`campaign ${campaignId}`);
  const download = arun.getByRole('link', { name: /Download/ }).first();
  await expect(download).toBeVisible({ timeout: 20_000 });
  const exportId = arun.url().match(/export=(\d+)/)![1];
  const file = await arun.request.get(`/api/audit/exports/${exportId}/file`);
  expect(file.status()).toBe(200);
  const csv = await file.text();
  for (const action of ['campaign.started', 'campaign.line_decided', 'change_set.submitted', 'campaign.closed']) {
    expect(csv).toContain(action);
  }
  const manifest = await (await arun.request.get(`/api/audit/exports/${exportId}/manifest`)).json();
  expect(manifest.rows).toBe(csv.trim().split('\r\n').length - 1);
  expect(errors).toEqual([]);
});
