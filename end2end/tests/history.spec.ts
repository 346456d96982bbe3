import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { expectNoAxeViolations, ready, screenshot, signIn, watchConsole } from './helpers';

// The auditor's tool: filter the history (the filter lives in the URL), export what it shows as
// CSV and JSON Lines, and check both downloads offline with `gatehouse audit verify`.
test('an auditor filters the history, exports it, and the downloads verify', async ({ page }, testInfo) => {
  const errors = watchConsole(page);
  await signIn(page, testInfo, 'auditor', '/history');
  await ready(page, testInfo);
  const filters = page.getByTestId('history-filters');

  // A date that is not one is refused next to its field, and what was typed stays.
  await filters.getByLabel('From (UTC)').fill('yesterday');
  await filters.getByRole('button', { name: 'Filter' }).click();
  await expect(page.locator('#h-from-error')).toContainText('is not a date');
  await expect(filters.getByLabel('From (UTC)')).toHaveValue('yesterday');

  // Sign-ins only, from a date in the past: the URL carries the filter.
  await filters.getByLabel('From (UTC)').fill('2020-01-01');
  await filters.getByLabel('Action').fill('auth.sign_in');
  await filters.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/action=auth\.sign_in/);
  const table = page.getByTestId('history-table');
  await expect(table.locator('tbody tr').first()).toContainText('auth.sign_in');
  const actions = await table.locator('tbody tr td:nth-child(4)').allTextContents();
  expect(actions.every((a) => a === 'auth.sign_in')).toBe(true);
  await table.locator('details').first().locator('summary').click();
  await expect(table.locator('pre').first()).toBeVisible();
  await expectNoAxeViolations(page, testInfo);
  await screenshot(page, testInfo, 'auditor-history-filtered');

  const dir = testInfo.outputPath('exports');
  fs.mkdirSync(dir, { recursive: true });
  let previous = '';
  for (const format of ['CSV', 'JSON Lines']) {
    await ready(page, testInfo);
    await page.getByRole('button', { name: format, exact: true }).click();
    // The page moves to the new export (its rows are hashed in the background; the page follows
    // that, polling with JavaScript and reloading itself without) and then offers it.
    await expect(page).toHaveURL(new RegExp(`export=(?!${previous}&)\\d+`));
    const id = new URL(page.url()).searchParams.get('export')!;
    previous = id;
    const notice = page.getByTestId('export-ready');
    await expect(notice).toContainText(new RegExp(`Export ${id} is ready: \\d+ events`));
    const file = await notice.getByRole('link', { name: 'Download the file' }).getAttribute('href');
    const manifest = await notice.getByRole('link', { name: 'Download the manifest' }).getAttribute('href');
    if (format === 'CSV') await screenshot(page, testInfo, 'auditor-history-export');
    const body = await page.request.get(file!);
    expect(body.status()).toBe(200);
    // Once prepared, the download says its exact length (the browser shows its progress).
    expect(Number(body.headers()['content-length'])).toBe((await body.body()).length);
    const name = `export-${format === 'CSV' ? 'csv' : 'jsonl'}`;
    fs.writeFileSync(`${dir}/${name}`, await body.body());
    fs.writeFileSync(`${dir}/${name}.manifest.json`, await (await page.request.get(manifest!)).body());
    const out = execFileSync(process.env.GATEHOUSE_BIN!, ['audit', 'verify', '--export', `${dir}/${name}`, '--manifest', `${dir}/${name}.manifest.json`]).toString();
    expect(out).toContain('export verified');
    // A changed byte does not verify.
    const text = fs.readFileSync(`${dir}/${name}`, 'utf8');
    fs.writeFileSync(`${dir}/${name}`, text.replace('auth.sign_in', 'auth.sign_im'));
    expect(() => execFileSync(process.env.GATEHOUSE_BIN!, ['audit', 'verify', '--export', `${dir}/${name}`, '--manifest', `${dir}/${name}.manifest.json`], { stdio: 'pipe' })).toThrow();
  }
  expect(errors).toEqual([]);
});

test('a person without an audit role cannot download an export', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'norole', '/');
  const r = await page.request.get('/api/audit/exports/1/file');
  expect(r.status()).toBe(403);
});
