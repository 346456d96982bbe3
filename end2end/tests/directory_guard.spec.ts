import { test, expect } from '@playwright/test';
import fs from 'node:fs';
import { ready, runSync, screenshot, signIn, watchConsole, expectNoAxeViolations } from './helpers';

// The mass-removal guard, seen by an admin: a sync that would remove groups is held back with the
// reason, changes nothing, and "Apply the removals" applies it deliberately. The stack holds every
// removal (GATEHOUSE_DIRECTORY_MAX_REMOVAL_PERCENT=0) and reads a copy of the demo's directory
// file that this test rewrites, so it runs alone, after the main suite (e2e.sh, @directory-file).

const file = process.env.GATEHOUSE_E2E_DIRECTORY_FILE!;
const DISPOSABLE = {
  id: 'e2e00000-0000-4000-8000-00000000d15a',
  displayName: 'Contractors 2019',
  description: 'Kept only for this test: it leaves the directory',
  members: [] as string[],
};

function writeDirectory(withDisposable: boolean) {
  const directory = JSON.parse(fs.readFileSync(file, 'utf8'));
  directory.groups = directory.groups.filter((g: { id: string }) => g.id !== DISPOSABLE.id);
  if (withDisposable) directory.groups.push({ ...DISPOSABLE, members: [directory.users[0].id] });
  fs.writeFileSync(file, JSON.stringify(directory, null, 2));
}

test('@directory-file a sync that would remove groups is held until an admin applies it', async ({ page }, testInfo) => {
  const errors = watchConsole(page);
  writeDirectory(true);
  await signIn(page, testInfo, 'admin', '/sync');
  await runSync(page, testInfo, 'Sync groups now', 'groups');

  // The group leaves the directory: the next sync is held and changes nothing.
  writeDirectory(false);
  await page.getByRole('button', { name: 'Sync groups now' }).click();
  const held = page.getByTestId('held-removals');
  await expect(held).toContainText('held back 1 removal.', { timeout: 30_000 });
  await expect(held).toContainText(/refused to remove 1 of \d+ known groups/);
  await expect(held).toContainText('lost its groups');
  const newest = page.locator('[data-testid=sync-runs] tbody tr[data-catalog=groups]').first();
  await expect(newest).toContainText('failed');
  await ready(page, testInfo);
  await expectNoAxeViolations(page, testInfo);
  await screenshot(page, testInfo, 'admin-sync-held-removals');
  await page.goto(`/groups/file/${DISPOSABLE.id}`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Contractors 2019');
  await expect(page.getByTestId('members-error')).toHaveCount(0);

  // Applied deliberately: the group is marked deleted, and the run says an admin allowed it.
  await page.goto('/sync');
  await ready(page, testInfo);
  await page.getByTestId('apply-removals').click();
  await expect(newest).toContainText('finished', { timeout: 30_000 });
  await expect(newest).toContainText('1 removed');
  await expect(newest).toContainText('removals allowed by an admin');
  await expect(page.getByTestId('held-removals')).toHaveCount(0);
  await expect(page.getByTestId('directory-status')).toContainText('full resyncs the directory asked for: 0');

  // "Full resync" lists everything again (for a file, every sync does).
  await ready(page, testInfo);
  const run = await newest.getAttribute('data-run');
  await page.getByTestId('full-resync').click();
  await expect(newest).not.toHaveAttribute('data-run', run!, { timeout: 30_000 });
  await expect(newest).toContainText('finished', { timeout: 30_000 });
  await expect(newest).toContainText('full listing');
  await page.goto(`/groups/file/${DISPOSABLE.id}`);
  await expect(page.getByRole('heading', { level: 1 })).toContainText('deleted');
  await expect(page.getByTestId('members-error')).toContainText('deleted from the directory');
  expect(errors).toEqual([]);
});
