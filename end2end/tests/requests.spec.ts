import { test, expect } from '@playwright/test';
import { expectNoAxeViolations, ready, screenshot, signIn, watchConsole } from './helpers';

// Access requests: a person without any Gatehouse role finds the way to ask for access from the
// "no access" page, sees what each role may call and how to get it, and follows their requests.
// In the demo every role is given through IAM Identity Center, which assigns groups only, so
// each says so instead of being offered (the request → review → push → end path runs against
// a real server in server/tests/requests.rs).
test('a person without a role finds the request page and is told how to get each role', async ({ page }, testInfo) => {
  const errors = watchConsole(page);
  await signIn(page, testInfo, 'norole', '/');
  await page.getByTestId('request-access-link').click();
  await expect(page).toHaveURL(/\/requests$/);
  await ready(page, testInfo);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Request access');
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Request access' }))
    .toHaveAttribute('aria-current', 'page');
  await expect(page.getByTestId('no-requests')).toContainText('You have not asked for anything yet');
  // Roles that may call something are listed with their routes and how to get them.
  const roles = page.getByTestId('requestable-roles');
  await expect(roles.getByRole('row').nth(1)).toBeVisible();
  await expect(roles.getByTestId('request-how').first()).toContainText('IAM Identity Center');
  await expect(page.getByTestId('nothing-to-request')).toContainText('the table below says why');
  await expectNoAxeViolations(page, testInfo);
  await screenshot(page, testInfo, 'norole-requests');
  expect(errors).toEqual([]);
});

test('the other pages stay closed to a person without a role', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'norole', '/requests');
  const response = await page.goto('/change-sets');
  expect(response?.status()).toBe(403);
  await expect(page.getByTestId('no-access')).toBeVisible();
});
