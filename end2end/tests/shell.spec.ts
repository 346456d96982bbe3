import { test, expect } from '@playwright/test';
import {
  DEMO_USERS, PAGES, PATHS, expectNoAxeViolations, ready, screenshot, signIn, watchConsole,
} from './helpers';

for (const [user, who] of Object.entries(DEMO_USERS)) {
  test(`${user} sees exactly the navigation of their roles, and every page passes axe`, async ({ page }, testInfo) => {
    const errors = watchConsole(page);
    await signIn(page, testInfo, user);
    await expect(page.getByTestId('user-name')).toHaveText(who.name);
    await expect(page.getByTestId('user-roles')).toHaveText(who.roles);
    const nav = page.getByRole('navigation', { name: 'Main' }).getByRole('link');
    await expect(nav).toHaveText([...who.nav]);

    for (const title of who.nav) {
      await page.goto(PATHS[title]);
      await ready(page, testInfo);
      await expect(page.getByRole('link', { name: title, exact: true })).toHaveAttribute('aria-current', 'page');
      await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
      await expectNoAxeViolations(page, testInfo);
      await screenshot(page, testInfo, `${user}-${title.toLowerCase().replace(' ', '-')}`);
    }
    expect(errors).toEqual([]);

    // Pages outside the person's roles explain themselves (and the server answered 403).
    for (const title of PAGES.filter((p) => !(who.nav as readonly string[]).includes(p))) {
      const response = await page.goto(PATHS[title]);
      expect(response?.status()).toBe(403);
      await expect(page.getByTestId('forbidden')).toBeVisible();
      await expectNoAxeViolations(page, testInfo);
    }
  });
}

test('a person without a Gatehouse role sees "no access" and only the way to ask for it', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'norole');
  await expect(page.getByTestId('no-access')).toContainText('No access');
  await expect(page.getByTestId('no-access')).toContainText('Nora Nobody');
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link')).toHaveText(['Request access']);
  await expectNoAxeViolations(page, testInfo);
  await screenshot(page, testInfo, 'norole-no-access');
  const response = await page.goto('/history');
  expect(response?.status()).toBe(403);
  await expect(page.getByTestId('no-access')).toBeVisible();
});

test('a protected page sends a stranger to sign in and back to that page', async ({ page }, testInfo) => {
  await page.goto('/history');
  await expect(page).toHaveURL(/\/interaction\//);
  await expect(page.getByRole('heading', { name: 'Sign in to Gatehouse (demo)' })).toBeVisible();
  await screenshot(page, testInfo, 'provider-pick-a-demo-user');
  await page.getByRole('button', { name: /Arun Auditor/ }).click();
  await expect(page).toHaveURL(/\/history$/);
  await ready(page, testInfo);
  await expect(page.getByRole('heading', { level: 1, name: 'History' })).toBeVisible();
});

test('sign-out ends the session, at Gatehouse and at the provider', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'admin');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign out of the demo provider' })).toBeVisible();
  await page.getByRole('button', { name: 'Yes, sign me out' }).click();
  await expect(page).toHaveURL(/\/auth\/signed-out$/);
  await expect(page.getByRole('heading', { name: 'You have signed out' })).toBeVisible();
  await expectNoAxeViolations(page, testInfo);
  await screenshot(page, testInfo, 'signed-out');
  await page.goto('/');
  await expect(page).toHaveURL(/\/interaction\//); // signed out at the provider too: it asks again
});

test('a refused sign-in says why and signs nobody in', async ({ page }, testInfo) => {
  await page.goto('/auth/login?login_hint=outsider');
  await expect(page.getByRole('heading', { name: 'Sign-in refused' })).toBeVisible();
  await expect(page.getByRole('alert')).toContainText('not allowed to use this Gatehouse');
  await expectNoAxeViolations(page, testInfo);
  await screenshot(page, testInfo, 'sign-in-refused');
});

test('navigation moves between pages, on a phone and in the dark theme too', async ({ page }, testInfo) => {
  const errors = watchConsole(page);
  await signIn(page, testInfo, 'admin-reviewer');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Reviews' }).click();
  await expect(page).toHaveURL(/\/reviews$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Reviews' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Reviews', exact: true })).toHaveAttribute('aria-current', 'page');
  await expect(page).toHaveTitle('Reviews · Gatehouse');
  if (testInfo.project.name === 'js-on') {
    // Hydration must not move anything: the server already rendered the final page.
    await page.goto('/change-sets');
    await ready(page, testInfo);
    const shift = await page.evaluate(() => new Promise<number>((resolve) => {
      let total = 0;
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) total += (entry as unknown as { value: number }).value;
      }).observe({ type: 'layout-shift', buffered: true });
      setTimeout(() => resolve(total), 500);
    }));
    expect(shift).toBeLessThan(0.01);
  }
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, testInfo, 'phone-reviews');
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto('/');
  await ready(page, testInfo);
  await expectNoAxeViolations(page, testInfo); // contrast holds in the dark theme too
  await screenshot(page, testInfo, 'dark-home');
  expect(errors).toEqual([]);
});

test('"Skip to content" moves the keyboard past the navigation, hydrated or not', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'auditor', '/apis');
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to content' });
  await expect(skip).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/apis#main$/);
  // The next Tab lands inside the page's content, not on the logo or the navigation.
  await page.keyboard.press('Tab');
  const inMain = await page.evaluate(() => !!document.activeElement?.closest('main'));
  expect(inMain).toBe(true);
});

test('an admin ends every session of a person from the Sync page', async ({ browser }, testInfo) => {
  // The person (one no other test signs in as: ending their sessions cannot disturb another
  // test), signed in in a browser of their own.
  const theirs = await browser.newContext({ javaScriptEnabled: testInfo.project.name === 'js-on' });
  const them = await theirs.newPage();
  await signIn(them, testInfo, 'overage', '/');
  const ours = await browser.newContext({ javaScriptEnabled: testInfo.project.name === 'js-on' });
  const page = await ours.newPage();
  await signIn(page, testInfo, 'admin', '/sync');
  const row = page.locator('[data-testid=people-sessions] tr[data-person="olive.overage@contoso.test"]');
  await expect(row).toBeVisible();
  await screenshot(page, testInfo, 'sync-sessions');
  await row.getByRole('button', { name: 'End every session of Olive Overage' }).click();
  if (testInfo.project.name === 'js-on') {
    await expect(page.getByTestId('sessions-ended')).toContainText('Every session of Olive Overage');
  }
  // The column says when (after the form's round trip, with or without JavaScript).
  await page.goto('/sync');
  await expect(row.locator('td').nth(3)).toHaveText(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}/);
  // Their next request finds the session over: back to sign-in.
  const answer = await them.request.get('/', { maxRedirects: 0 });
  expect(answer.status()).toBe(303);
  expect(answer.headers()['location']).toContain('/auth/login');
  await theirs.close();
  await ours.close();
});
