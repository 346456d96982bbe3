import { test, expect } from '@playwright/test';
import { expectNoAxeViolations, ready, runSync, screenshot, signIn, watchConsole } from './helpers';

// The local stack's moto_server holds the three sample REST APIs, one HTTP API and five roles of
// `gatehouse seed-demo`; its directory is end2end/stack/demo-directory.json.
test.describe.configure({ mode: 'serial' });

const mainNav = (page: import('@playwright/test').Page) => page.getByRole('navigation', { name: 'Main' });

test('an admin syncs the API catalog and browses it', async ({ page }, testInfo) => {
  const errors = watchConsole(page);
  await signIn(page, testInfo, 'admin', '/sync');
  await runSync(page, testInfo, 'Sync APIs now', 'apis');
  // The run is listed under the person who started it. (The newest run may be another's: an
  // admin of the other project at the same moment, or the catalog refresh after a push.)
  await expect(page.locator('[data-testid=sync-runs] tbody tr[data-catalog=apis]', { hasText: /Ada Admin|Sam Both/ }).first())
    .toContainText('finished');
  await runSync(page, testInfo, 'Sync IAM roles now', 'roles');
  await expectNoAxeViolations(page, testInfo);
  await screenshot(page, testInfo, 'admin-sync-after-run');

  await mainNav(page).getByRole('link', { name: 'APIs' }).click();
  await expect(page).toHaveURL(/\/apis$/);
  await ready(page, testInfo);
  const table = page.getByTestId('api-table');
  await expect(table.locator('tbody tr')).toHaveCount(4);
  await expect(page.getByTestId('api-count')).toHaveText('4 APIs');
  // The HTTP API (API Gateway v2) is listed beside the REST APIs, marked as such.
  await expect(table.locator('tbody tr', { hasText: 'bookings-http' })).toContainText('HTTP API');
  await expect(table.locator('tbody tr', { hasText: 'orders-api' })).not.toContainText('HTTP API');
  await expectNoAxeViolations(page, testInfo);
  await screenshot(page, testInfo, 'admin-apis');

  // Sort by the methods that IAM does not guard.
  await table.getByRole('link', { name: 'Not IAM-authorized' }).click();
  await expect(page).toHaveURL(/sort=non-iam/);
  await expect(page.getByRole('columnheader', { name: 'Not IAM-authorized' })).toHaveAttribute('aria-sort', 'descending');

  // The server pages the list: two per page, the order kept from page to page.
  await page.goto('/apis?sort=name&size=2');
  await ready(page, testInfo);
  await expect(page.getByTestId('api-count')).toHaveText('2 of 4 APIs');
  const firstTwo = await table.locator('tbody tr td:first-child a').allTextContents();
  await page.getByRole('link', { name: 'Next →' }).click();
  await expect(page).toHaveURL(/sort=name&size=2&after=/);
  await expect(page.getByTestId('api-count')).toHaveText('2 of 4 APIs');
  await expect(table.locator('tbody')).not.toContainText(firstTwo[0]);
  await page.getByRole('link', { name: '← Previous' }).click();
  await expect(page.getByTestId('api-count')).toHaveText('2 of 4 APIs');
  await expect(table.locator('tbody tr td:first-child a')).toHaveText(firstTwo);
  await page.goto('/apis?sort=non-iam');
  await ready(page, testInfo);

  // Search, then open one API.
  await page.getByLabel('Search by name, id or description').fill('settlement');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/q=settlement/);
  await expect(table.locator('tbody tr')).toHaveCount(1);
  await table.getByRole('link', { name: 'payments-api' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('payments-api');
  await expect(mainNav(page).getByRole('link', { name: 'APIs' })).toHaveAttribute('aria-current', 'page');
  await ready(page, testInfo);
  const stages = page.getByTestId('stage-table');
  await expect(stages.locator('tbody tr')).toHaveCount(2);
  const refunds = page.getByTestId('resource-tree').locator('li', { hasText: '/payments/{paymentId}/refunds' });
  await expect(refunds).toContainText('POST');
  await expect(refunds).toContainText('AWS_IAM');
  await expect(refunds).toContainText('API key');
  // What decides each method, said plainly: IAM, nobody (NONE), or an authorizer that is not
  // Gatehouse's.
  const tree = page.getByTestId('resource-tree');
  const payments = tree.locator('li.method', { hasText: 'POST' }).filter({ has: page.locator('[data-decided="outside"]') });
  await expect(payments.first()).toContainText('decided outside Gatehouse, by authorizer token-authorizer (TOKEN)');
  await expect(tree.locator('li', { hasText: '/reports/settlements' }).locator('[data-decided]'))
    .toHaveText('anyone who can reach the API may call it (authorization NONE)');
  await expectNoAxeViolations(page, testInfo);
  await screenshot(page, testInfo, 'admin-api-detail');
  // Who can call the NONE method: the page says first that anyone who can reach it may.
  await tree.locator('li', { hasText: '/reports/settlements' }).getByTestId('who-can-call').first().click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Who can call GET /reports/settlements');
  await ready(page, testInfo);
  await expect(page.getByTestId('decided')).toHaveAttribute('data-decided', 'anyone');
  await expect(page.getByTestId('decided')).toContainText('Authorization NONE: open to anyone who can reach it.');
  await screenshot(page, testInfo, 'admin-who-can-call-open');

  // The HTTP API's page: its routes as the tree, `$default` included, each saying what decides
  // it; a stage that deploys itself beside one deployed by hand.
  await page.goto('/apis?q=bookings');
  await ready(page, testInfo);
  await table.getByRole('link', { name: 'bookings-http' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('bookings-http');
  await ready(page, testInfo);
  await expect(page.getByTestId('api-kind')).toHaveText('HTTP API');
  await expect(page.getByTestId('stage-table').locator('tbody tr')).toHaveCount(2);
  const routes = page.getByTestId('resource-tree');
  await expect(routes.locator('li', { hasText: '$default' }).locator('[data-decided]'))
    .toHaveText('anyone who can reach the API may call it (authorization NONE)');
  await expect(routes.locator('li', { hasText: '/bookings/{bookingId}' }).first()).toContainText('DELETE');
  await expectNoAxeViolations(page, testInfo);
  await screenshot(page, testInfo, 'admin-http-api-detail');
  // Its matrix works as a REST API's does.
  await page.getByTestId('matrix-link').click();
  await ready(page, testInfo);
  await expect(page.getByRole('heading', { level: 1 })).toContainText('bookings-http');
  expect(errors).toEqual([]);
});

test('an admin syncs the directory, finds a group and sees its nested members', async ({ page }, testInfo) => {
  const errors = watchConsole(page);
  await signIn(page, testInfo, 'admin', '/sync');
  await runSync(page, testInfo, 'Sync groups now', 'groups');

  await mainNav(page).getByRole('link', { name: 'Groups' }).click();
  await expect(page).toHaveURL(/\/groups$/);
  await ready(page, testInfo);
  await expect(page.getByTestId('group-count')).toHaveText('20 groups');
  await expectNoAxeViolations(page, testInfo);
  await screenshot(page, testInfo, 'admin-groups');

  const search = page.getByLabel('Search by name, mail or object id');
  if (testInfo.project.name === 'js-on') {
    // Filters as you type.
    await search.pressSequentially('payments');
  } else {
    await search.fill('payments');
    await page.getByRole('button', { name: 'Search' }).click();
  }
  await expect(page).toHaveURL(/q=payments/);
  const table = page.getByTestId('group-table');
  await expect(table.locator('tbody tr')).toHaveCount(2);
  await table.getByRole('link', { name: 'Payments engineers' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Payments engineers');
  await ready(page, testInfo);
  // Three direct members and two through the nested on-call group.
  await expect(page.getByTestId('member-count')).toContainText('5 members');
  await expect(page.getByTestId('member-table')).toContainText('Liam O\'Brien');
  await expectNoAxeViolations(page, testInfo);
  await screenshot(page, testInfo, 'admin-group-detail');
  // A member's name leads to their own page: the groups they are in, with the nesting.
  await page.getByTestId('member-table').getByRole('link', { name: 'Liam O\'Brien' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Liam O\'Brien');
  await ready(page, testInfo);
  await expect(page.getByTestId('person-groups')).toContainText('Payments engineers');
  await expect(mainNav(page).getByRole('link', { name: 'Groups' })).toHaveAttribute('aria-current', 'page');
  await expectNoAxeViolations(page, testInfo);
  await screenshot(page, testInfo, 'admin-person');

  await mainNav(page).getByRole('link', { name: 'Roles' }).click();
  await ready(page, testInfo);
  const roles = page.getByTestId('role-table');
  await expect(roles.locator('tbody tr')).toHaveCount(5);
  await expect(roles.locator('tbody tr').last()).toContainText('not managed');
  await screenshot(page, testInfo, 'admin-roles');
  await roles.getByRole('link', { name: 'gatehouse-orders-readers' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toContainText('gatehouse-orders-readers');
  await expect(page.getByTestId('trust-policy')).toContainText('sts:AssumeRole');
  await expect(page.getByTestId('tag-table')).toContainText('gatehouse:managed');
  const arn = 'arn:aws:iam::123456789012:role/gatehouse-orders-readers';
  const copy = page.getByRole('button', { name: `Copy ${arn}` });
  if (testInfo.project.name === 'js-on') {
    // The identifier's copy button puts the whole ARN on the clipboard.
    await ready(page, testInfo);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await copy.click();
    await expect(copy).toHaveText('Copied');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(arn);
  } else {
    // Without JavaScript there is no clipboard to reach: no button to press.
    await expect(copy).toBeHidden();
  }
  await expectNoAxeViolations(page, testInfo);
  await screenshot(page, testInfo, 'admin-role-detail');
  expect(errors).toEqual([]);
});

test('a long list pages on the server: next and previous keep the search and page size', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'auditor', '/roles?q=gatehouse-&size=1');
  const count = page.getByTestId('role-count');
  await expect(count).toHaveText(/^1 of [2-9] roles$/);
  const rows = page.getByTestId('role-table').locator('tbody tr');
  await expect(rows).toHaveCount(1);
  const first = (await rows.first().locator('a').first().textContent())!;
  await expect(page.getByRole('link', { name: '← Previous' })).toHaveCount(0);
  await page.getByRole('link', { name: 'Next →' }).click();
  await expect(page).toHaveURL(/[?&]q=gatehouse-.*&size=1&after=/);
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).not.toContainText(first);
  await expect(count).toHaveText(/^1 of [2-9] roles$/);
  await expect(page.getByLabel(/Search by name/)).toHaveValue('gatehouse-');
  await page.getByRole('link', { name: '← Previous' }).click();
  await expect(page).toHaveURL(/before=/);
  await expect(rows.first()).toContainText(first);
  await expectNoAxeViolations(page, testInfo);
});

test('a search that matches nothing says so', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'auditor', '/apis?q=no-such-api');
  await expect(page.getByTestId('no-match')).toContainText('No API matches');
  await expectNoAxeViolations(page, testInfo);
  await page.goto('/groups?q=no-such-group');
  await expect(page.getByTestId('no-match')).toContainText('No group matches');
});

test('an auditor reads the catalog but cannot start a sync, even by posting', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'auditor', '/groups');
  await expect(page.getByRole('heading', { level: 1, name: 'Groups' })).toBeVisible();
  await expect(mainNav(page).getByRole('link', { name: 'Sync' })).toHaveCount(0);
  const response = await page.goto('/sync');
  expect(response?.status()).toBe(403);
  await expect(page.getByRole('button', { name: 'Sync groups now' })).toHaveCount(0);
  // The server refuses the sync endpoint itself, whatever the page shows.
  const origin = new URL(page.url()).origin;
  const posted = await page.request.post('/api/catalog/sync', {
    form: { catalog: 'groups' },
    headers: { Origin: origin, Accept: 'application/json' },
  });
  expect(posted.status()).toBe(403);
});
