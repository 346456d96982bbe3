import { expect, test } from '@playwright/test';
import { expectNoAxeViolations, ready, screenshot, signIn, watchConsole } from './helpers';

test('an admin adds a receiver, is told what is wrong next to the field, and turns it off and on', async ({ page }, testInfo) => {
  const errors = watchConsole(page);
  await signIn(page, testInfo, 'admin', '/sync');
  await page.getByTestId('notifications-link').click();
  await expect(page).toHaveURL(/\/notifications$/);
  await ready(page, testInfo);
  await expect(page.getByRole('heading', { name: 'Notifications', level: 1 })).toBeVisible();

  const name = `Platform team ${testInfo.project.name} ${Date.now()}`;
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Address').fill('ftp://example.com/hook');
  await page.getByRole('button', { name: 'Add receiver' }).click();
  await expect(page.locator('#receiver-url-error')).toContainText('http');
  await expect(page.locator('tr', { hasText: name })).toHaveCount(0);
  await ready(page, testInfo);

  await page.getByLabel('Address').fill('https://hooks.example.com/gatehouse');
  await page.getByLabel('Kind').selectOption('generic');
  await page.getByLabel(/^pushed/).check();
  await page.getByRole('button', { name: 'Add receiver' }).click();
  const row = page.locator('tr', { hasText: name });
  await expect(row).toContainText('submitted, approved, pushed, push_failed, drift_found');
  await expect(row.getByTestId('receiver-counts')).toContainText('delivered');
  await expect(row.getByTestId('receiver-secret')).toHaveText(/^whsec_[0-9a-f]{64}$/);
  // A new secret replaces it (the old one still signs beside it for a day).
  await row.locator('summary', { hasText: 'Signing secret' }).click();
  const first = await row.getByTestId('receiver-secret').textContent();
  await row.getByRole('button', { name: `New secret for receiver ${name}` }).click();
  // (Without JavaScript the page is simply shown again: the changed secret says it.)
  if (testInfo.project.name === 'js-on') await expect(page.getByText(/signs with a new secret/)).toBeVisible();
  const fresh = page.locator('tr', { hasText: name }).getByTestId('receiver-secret');
  await expect(fresh).toHaveText(/^whsec_[0-9a-f]{64}$/);
  await expect(fresh).not.toHaveText(first!);
  await screenshot(page, testInfo, 'notifications');
  await expectNoAxeViolations(page, testInfo);

  await row.getByRole('button', { name: 'Turn off' }).click();
  await expect(page.locator('tr', { hasText: name }).getByRole('button', { name: 'Turn on' })).toBeVisible();
  await page.locator('tr', { hasText: name }).getByRole('button', { name: 'Turn on' }).click();
  await expect(page.locator('tr', { hasText: name }).getByRole('button', { name: 'Turn off' })).toBeVisible();
  // Each change to a receiver is in the history, with who made it.
  await page.goto('/history?action=notifications.receiver_turned_off');
  await expect(page.locator('tr', { hasText: name })).toContainText('notifications.receiver_turned_off');
  await expect(page.locator('tr', { hasText: name })).toContainText('Ada Admin');
  expect(errors).toEqual([]);
});

test('a reviewer cannot see the notifications page', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'reviewer');
  const response = await page.goto('/notifications');
  expect(response!.status()).toBe(403);
  await expect(page.getByTestId('receiver-table')).toHaveCount(0);
});
