import { test, expect } from '@playwright/test';
import { bindInDraft, pick, ready, runSync, screenshot, signedIn } from './helpers';

// The demo puts inventory-api in token mode (GATEHOUSE_ATTACH_AUTHORIZER): a push of a grant on
// it attaches Gatehouse's authorizer to the granted method, and the API page then says the
// method is decided by group, with an access token. One project runs it: both would push the
// same API, and one push at a time may touch an API.
const GROUP = 'Warehouse operations';
const ROLE = 'gatehouse-inventory-readers';
const API = 'inventory-api';

test('a push in token mode attaches the authorizer to the granted method and the API page says so', async ({ browser }, testInfo) => {
  test.skip(testInfo.project.name !== 'js-on', 'pushes inventory-api once; the js-off run would push the same API');
  const author = await signedIn(browser, testInfo, 'admin', '/sync');
  for (const [button, catalog] of [['Sync APIs now', 'apis'], ['Sync IAM roles now', 'roles'], ['Sync groups now', 'groups']]) {
    await runSync(author, testInfo, button, catalog);
  }
  // Before: GET /items is open to anyone who can reach it.
  await author.goto('/apis');
  await author.getByTestId('api-table').getByRole('link', { name: API }).click();
  await ready(author, testInfo);
  const itemsLine = author.getByTestId('resource-tree').locator('li:has(> code.path)')
    .filter({ has: author.locator('code.path', { hasText: /^\/items$/ }) })
    .locator('li.method').filter({ has: author.locator('span.verb', { hasText: /^GET$/ }) })
    .getByTestId('callers');
  await expect(itemsLine).toHaveAttribute('data-decided', 'anyone');

  // Bind the group to the role and grant the role GET /items on prod, from the group's page.
  await bindInDraft(author, testInfo, GROUP, ROLE);
  await expect(author.getByText(/Added to your draft change set \d+/)).toBeVisible();
  const grant = author.getByTestId('grant-form');
  await pick(grant.getByLabel('Role', { exact: true }), `${ROLE} `);
  await pick(grant.getByLabel('API'), `${API} `);
  await grant.getByLabel('Method').selectOption('GET');
  await grant.getByLabel(/Resource path/).fill('/items');
  await grant.getByLabel(/Stage/).fill('prod');
  await grant.getByRole('button', { name: 'Add to my change set' }).click();
  await expect(author.locator('section.card', { has: grant }).getByText(/Added to your draft change set/)).toBeVisible();
  await author.getByRole('link', { name: /^change set \d+$/ }).first().click();
  await expect(author.getByRole('heading', { level: 1 })).toContainText('draft');
  await ready(author, testInfo);
  await author.getByLabel('Title').fill(`${GROUP} reads stock by token`);
  await author.getByLabel(/Justification/).fill('Warehouse handhelds call the inventory API with Entra tokens (CHG-2207).');
  await author.getByRole('button', { name: 'Submit for review' }).click();
  await expect(author.getByRole('heading', { level: 1 })).toContainText('submitted');
  const id = author.url().match(/\/change-sets\/(\d+)/)![1];

  const reviewer = await signedIn(browser, testInfo, 'reviewer', `/change-sets/${id}`);
  await ready(reviewer, testInfo);
  await reviewer.getByLabel('Comment').fill('Token access for the handhelds; read only.');
  await reviewer.getByRole('button', { name: 'Approve' }).click();
  await expect(reviewer.getByRole('heading', { level: 1 })).toContainText('approved');

  // The plan lists the authorizer and the method change next to the bundle.
  await author.goto(`/change-sets/${id}`);
  await ready(author, testInfo);
  const planTable = author.getByTestId('push-plan');
  // The demo's inventory-api has a `gatehouse` authorizer already (seeded with API Gateway's
  // default cache of 300 s): the push brings it to Gatehouse's 60 s.
  await expect(planTable).toContainText(/set authorizer gatehouse of API \w+: answers cached 60 s \(was 300 s\)/);
  await expect(planTable).toContainText(/set GET \/items of API \w+ to CUSTOM with authorizer gatehouse \(was NONE\)/);
  await expect(planTable).toContainText('publish access bundle version');
  await screenshot(author, testInfo, 'admin-token-mode-plan');
  await author.getByRole('button', { name: 'Push to AWS' }).click();
  await expect(author.getByRole('heading', { level: 1 })).toContainText('pushed', { timeout: 30_000 });
  await expect(author.getByTestId('push-run')).toContainText(/succeeded: \d+ calls made, read back and matching/);

  // The push synced the API catalog again: GET /items is now decided by Gatehouse's authorizer.
  await expect(async () => {
    await author.goto('/apis');
    await author.getByTestId('api-table').getByRole('link', { name: API }).click();
    await expect(itemsLine).toHaveAttribute('data-decided', 'gatehouse', { timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
  await expect(itemsLine).toContainText(`${GROUP} via ${ROLE}`);
  await expect(itemsLine).toContainText("with an access token (Gatehouse's authorizer)");
  await screenshot(author, testInfo, 'admin-token-mode-api');
});
