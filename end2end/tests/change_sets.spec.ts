import { test, expect, type TestInfo } from '@playwright/test';
import { accessToken, expectNoAxeViolations, pick, ready, runSync, screenshot, signIn, signedIn, watchConsole, widenPolicyByHand } from './helpers';

// Both projects run this at once: each uses its own author, group and role so that neither
// change set makes the other's base stale.
const plan = (testInfo: TestInfo) => testInfo.project.name === 'js-on'
  ? { author: 'admin', group: 'Orders team', role: 'gatehouse-orders-readers', api: 'orders-api', path: '/orders', other: 'POST /orders' }
  : { author: 'admin-reviewer', group: 'Customer support', role: 'gatehouse-payments-operators', api: 'payments-api', path: '/payments', other: 'GET /payments/{paymentId}' };
const jsOn = (testInfo: TestInfo) => testInfo.project.name === 'js-on';

test.describe.configure({ mode: 'serial' });

test('an admin proposes a mapping, another person approves it, the author cannot', async ({ browser }, testInfo) => {
  const p = plan(testInfo);
  const author = await signedIn(browser, testInfo, p.author, '/sync');
  const errors = watchConsole(author);
  for (const [button, catalog] of [['Sync APIs now', 'apis'], ['Sync IAM roles now', 'roles'], ['Sync groups now', 'groups']]) {
    await runSync(author, testInfo, button, catalog);
  }

  // The group's page: bind a role, then grant it a route (a bad path first, with JavaScript).
  await author.goto(`/groups?q=${encodeURIComponent(p.group)}`);
  await author.getByTestId('group-table').getByRole('link', { name: p.group }).click();
  await expect(author.getByRole('heading', { level: 1 })).toHaveText(p.group);
  await ready(author, testInfo);
  // The bind form offers a few roles at a time; a search on the server finds the one.
  await author.getByLabel('Find a role by name or ARN').fill(p.role);
  await author.getByTestId('role-search').getByRole('button', { name: 'Find' }).click();
  await expect(author).toHaveURL(new RegExp(`[?&]role=${p.role}`));
  await expect(author.getByTestId('role-count')).toHaveText(new RegExp(`^\\d+ managed roles? matching “${p.role}”\\.$`));
  await ready(author, testInfo);
  const bind = author.getByTestId('bind-form');
  await pick(bind.getByLabel('Role (Gatehouse-managed)'), `${p.role} `);
  // A double click on the first "Add" makes one draft with the binding once, and no error.
  await bind.getByRole('button', { name: 'Add to my change set' }).dblclick();
  // What went through is said on the page it came from (the form's redirect carries it).
  await expect(author.getByText(/Added to your draft change set \d+/)).toBeVisible();
  await expect(author.locator('.notice-error')).toHaveCount(0);
  const grant = author.getByTestId('grant-form');
  await pick(grant.getByLabel('Role', { exact: true }), `${p.role} `);
  await pick(grant.getByLabel('API'), `${p.api} `);
  // The path hints are the chosen API's (with JavaScript; without it, the first API's).
  if (jsOn(testInfo)) await expect(author.locator(`#grant-paths option[value="${p.path}"]`)).toHaveCount(1);
  await grant.getByLabel('Method').selectOption('GET');
  // A bad path is refused next to its field, and what was typed and chosen stays (the page
  // comes back with it).
  await grant.getByLabel(/Resource path/).fill('orders');
  await grant.getByLabel(/Stage/).fill('prod');
  await grant.getByRole('button', { name: 'Add to my change set' }).click();
  await expect(author.getByTestId('grant-form').locator('#grant-path-error')).toContainText('starts with /');
  await expect(grant.getByLabel(/Resource path/)).toHaveValue('orders');
  await expect(grant.getByLabel(/Stage/)).toHaveValue('prod');
  await expect(grant.getByLabel('Role', { exact: true }).locator('option:checked')).toContainText(p.role);
  await expect(grant.getByLabel('API').locator('option:checked')).toContainText(p.api);
  if (jsOn(testInfo)) await expect(author.locator(`#grant-paths option[value="${p.path}"]`)).toHaveCount(1);
  // One grant too many, taken out again on the change set page.
  await grant.getByLabel(/Resource path/).fill('/health');
  await grant.getByRole('button', { name: 'Add to my change set' }).click();
  await expect(author.locator('section.card', { has: grant }).getByText(/Added to your draft change set/)).toBeVisible();
  const draftLink = author.getByRole('link', { name: /change set \d+/ }).first();
  await expect(draftLink).toBeVisible();
  await screenshot(author, testInfo, 'admin-group-edit');

  // The API page: grant a method to a group; it lands in the matrix's editor with the route picked.
  await author.goto('/apis');
  await author.getByTestId('api-table').getByRole('link', { name: p.api }).click();
  await ready(author, testInfo);
  await author.getByRole('link', { name: `Grant GET ${p.path} to a group` }).click();
  const editor = author.getByTestId('cell-editor');
  await expect(editor.getByRole('heading')).toHaveText(`Grant GET ${p.path} to a group`);
  await ready(author, testInfo);
  await pick(editor.getByLabel('Grant through role'), `${p.group} → ${p.role}`);
  await editor.getByLabel('Stage').selectOption('prod');
  await editor.getByRole('button', { name: 'Grant in my change set' }).click();
  const groupRow = author.getByTestId('matrix').getByRole('row', { name: new RegExp(p.group) });
  await expect(groupRow.getByRole('link', { name: `cannot call GET ${p.path}; your draft grants it: prod via ${p.role}. Edit` }))
    .toHaveText('+');

  // The matrix, cell by cell: grant another route to the group, see it pending, revoke it again.
  await groupRow.getByRole('link', { name: `cannot call ${p.other}. Edit` }).click();
  await expect(editor.getByRole('heading')).toHaveText(`${p.group} × ${p.other}`);
  await expect(editor.getByTestId('cell-state')).toHaveText('May not call it.');
  await ready(author, testInfo);
  await editor.getByLabel('Stage').selectOption('*');
  await editor.getByRole('button', { name: 'Grant in my change set' }).click();
  const pending = groupRow.getByRole('link', { name: `cannot call ${p.other}; your draft grants it: * via ${p.role}. Edit` });
  await expect(pending).toHaveText('+');
  await expectNoAxeViolations(author, testInfo);
  await screenshot(author, testInfo, 'admin-matrix-edit');
  await pending.click();
  await expect(editor.getByTestId('cell-state')).toHaveText(`Your draft makes it: * via ${p.role}.`);
  await ready(author, testInfo);
  await editor.getByRole('button', { name: `Revoke ${p.other} on * through ${p.role}` }).click();
  await expect(groupRow.getByRole('link', { name: `cannot call ${p.other}. Edit` })).toHaveText('—');
  await author.getByRole('link', { name: /^change set \d+$/ }).click();

  // The change set: items, the policy it yields, who gains what; then describe and submit.
  await expect(author.getByRole('heading', { level: 1 })).toContainText('draft');
  await ready(author, testInfo);
  await expect(author.getByTestId('items').locator('li')).toHaveCount(3);
  await author.getByRole('button', { name: /Remove “Grant role .* GET \/health/ }).click();
  await expect(author.getByTestId('items').locator('li')).toHaveCount(2);
  // Next to the grant: every group bound to its role gains it.
  await expect(author.getByTestId('item-warning').first()).toContainText(`Every group bound to ${p.role} gains it: ${p.group}`);
  await expect(author.getByTestId('policy-diff').locator('.line.added', { hasText: '"arn:aws:execute-api:us-east-1:123456789012:' }))
    .toHaveCount(1);
  await expect(author.getByTestId('access')).toContainText(`${p.group}`);
  await expect(author.getByTestId('access')).toContainText(`gains GET ${p.path}`);
  // What the binding makes true in AWS, said in a sentence.
  await expect(author.getByTestId('binding-lines')).toContainText(
    new RegExp(`Members of ${p.group} \\(\\d+ (people|person)\\) will be able to use ${p.role} in account 123456789012 through IAM Identity Center`));
  await expect(author.getByTestId('enforcement-notice')).toHaveCount(0);
  await author.getByLabel('Title').fill(`${p.group} reads ${p.api}`);
  await author.getByLabel(/Justification/).fill('The team needs read access for the new dashboard (CHG-1234).');
  await author.getByRole('button', { name: 'Submit for review' }).click();
  await expect(author.getByRole('heading', { level: 1 })).toContainText('submitted');
  await expect(author.getByTestId('review-form')).toHaveCount(0);
  await expectNoAxeViolations(author, testInfo);
  await screenshot(author, testInfo, 'admin-change-set-submitted');
  const url = author.url();
  const id = url.match(/\/change-sets\/(\d+)/)![1];

  // Even holding the reviewer role, or posting by hand, the author cannot approve.
  const own = await author.request.post('/api/change-sets/review', {
    form: { id, decision: 'approve', comment: '' },
    headers: { Origin: new URL(url).origin, Accept: 'application/json' },
  });
  if (p.author === 'admin') expect(own.status()).toBe(403);
  else expect(await own.text()).toContain('someone else must review it');
  expect(errors).toEqual([]);

  // The reviewer's queue, then the decision.
  const reviewer = await signedIn(browser, testInfo, 'reviewer', '/');
  // Home says what needs the reviewer.
  await expect(reviewer.getByTestId('home-to-review')).toContainText(`${p.group} reads ${p.api}`);
  await screenshot(reviewer, testInfo, 'reviewer-home-waiting');
  await reviewer.goto('/reviews');
  const queue = reviewer.getByTestId('change-set-table');
  await expect(queue).toContainText(`${p.group} reads ${p.api}`);
  await screenshot(reviewer, testInfo, 'reviewer-queue');
  // (The newest: a retried test leaves the first try's change set behind.)
  await queue.getByRole('link', { name: `${p.group} reads ${p.api}` }).first().click();
  await ready(reviewer, testInfo);
  await reviewer.getByLabel('Comment').fill('Matches the request; least privilege.');
  await reviewer.getByRole('button', { name: 'Approve' }).click();
  await expect(reviewer.getByRole('heading', { level: 1 })).toContainText('approved');
  await expect(reviewer.getByTestId('timeline')).toContainText('approved: “Matches the request; least privilege.”');
  await expect(reviewer.getByTestId('timeline')).toContainText('applied it to the mappings');
  // In that order: the review, then what it caused.
  await expect(reviewer.getByTestId('timeline').locator('li').last()).toContainText('applied it to the mappings');
  // Approved, the policy diff stays for whoever pushes it.
  await expect(reviewer.getByTestId('policy-diff').first()).toContainText('execute-api:Invoke');
  // Times read relative, the exact UTC time on hover.
  const when = reviewer.getByTestId('timeline').locator('time').last();
  await expect(when).toHaveText(/just now|\d+ (s|min) ago/);
  await expect(when).toHaveAttribute('title', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
  await expect(reviewer.getByTestId('push-none')).toContainText('Not pushed yet');
  await screenshot(reviewer, testInfo, 'reviewer-change-set-approved');

  // The author pushes it: the plan first (read from AWS), then the push, followed to the end.
  await author.goto(`/change-sets/${id}`);
  await ready(author, testInfo);
  const planTable = author.getByTestId('push-plan');
  // Identity Center: the permission set, its policy and the group's account assignment.
  await expect(planTable).toContainText('CreatePermissionSet');
  await expect(planTable).toContainText('PutInlinePolicyToPermissionSet');
  await expect(planTable).toContainText(`assign group ${p.group} to permission set ${p.role} in account 123456789012`);
  await expect(planTable).toContainText('UpdateRestApi');
  await expect(planTable).toContainText('CreateDeployment');
  // The plan was read in the background (the page did not wait on AWS) and says when.
  const planAge = author.getByTestId('plan-age');
  await expect(planAge).toContainText(/Plan read from AWS (just now|\d+ s ago)/);
  await expect(planAge).toContainText('The push reads AWS again before its first call.');
  await screenshot(author, testInfo, 'admin-push-plan');
  await author.getByTestId('read-plan-again').click();
  await expect(planAge).toContainText('The push reads AWS again before its first call.');
  await expect(planTable).toContainText('CreateDeployment');
  await author.getByRole('button', { name: 'Push to AWS' }).click();
  await expect(author.getByRole('heading', { level: 1 })).toContainText('pushed', { timeout: 30_000 });
  await expect(author.getByTestId('push-run')).toContainText(/succeeded: \d+ calls made, read back and matching/);
  await expect(author.getByTestId('timeline')).toContainText('succeeded and read back');
  await screenshot(author, testInfo, 'admin-push-done');
  // The push published the authorizer's access bundle. "Try a call" decides on it, as the Lambda
  // authorizer would: a member of the group may call the route, someone outside it may not, and
  // each answer says why.
  await author.goto('/try');
  await ready(author, testInfo);
  const member = jsOn(testInfo) ? 'Ada Admin' : 'Amara Okafor';
  for (const [person, allowed] of [[member, true], ['Rita Reviewer', false]] as const) {
    const tryForm = author.getByTestId('try-person-form');
    await pick(tryForm.getByLabel('Person'), `${person} `);
    await pick(tryForm.getByLabel('API'), `${p.api} `);
    await tryForm.getByLabel('Stage').fill('prod');
    await tryForm.getByLabel('Method').selectOption('GET');
    await tryForm.getByLabel('Path').fill(p.path);
    await tryForm.getByRole('button', { name: 'Try', exact: true }).click();
    const outcome = author.getByTestId('try-outcome');
    await expect(outcome).toHaveAttribute('data-allowed', String(allowed));
    await expect(outcome).toContainText(person);
    if (allowed) {
      await expect(author.getByTestId('try-reason')).toContainText(`Allowed through group ${p.group}`);
      await expect(outcome).toContainText(`which is bound to role arn:aws:iam::123456789012:role/${p.role}`);
      await expect(outcome).toContainText(`which is granted GET ${p.path} on stage prod`);
    } else {
      await expect(author.getByTestId('try-reason')).toContainText("Refused: none of the caller's groups (2) is granted anything");
      await expect(outcome).toContainText('Rita Reviewer (rita.reviewer@contoso.test) is in Finance');
    }
    await expect(author.getByTestId('try-bundle')).toContainText(/Decided on published version \d+/);
    // The demo's granted methods are AWS_IAM: API Gateway asks IAM, not the authorizer, and the
    // page says so beside the bundle's answer.
    await expect(author.getByTestId('try-not-asked'))
      .toHaveText(`API Gateway does not ask Gatehouse's authorizer for GET ${p.path}: IAM decides it (AWS_IAM): a caller signs the request with a role's credentials; a token is not asked for.`);
    await expectNoAxeViolations(author, testInfo);
    await screenshot(author, testInfo, allowed ? 'try-a-call-allowed' : 'try-a-call-refused');
    await ready(author, testInfo);
  }
  if (jsOn(testInfo)) {
    // A pasted access token, checked as the authorizer checks it: Nora is in the orders team.
    const tokenForm = author.getByTestId('try-token-form');
    await tokenForm.getByLabel('Access token').fill(await accessToken('norole'));
    await pick(tokenForm.getByLabel('API'), `${p.api} `);
    await tokenForm.getByLabel('Path').fill(p.path);
    await tokenForm.getByRole('button', { name: 'Try the token' }).click();
    const tokenOutcome = author.getByTestId('try-outcome').last();
    await expect(tokenOutcome).toContainText('Nora Nobody (nora.nobody@contoso.test)');
    await expect(tokenOutcome).toHaveAttribute('data-allowed', 'true');
    await screenshot(author, testInfo, 'try-a-call-token');
    // A token for another API is refused next to the field, with the reason.
    await tokenForm.getByLabel('Access token').fill(await accessToken('norole', 'api://some-other-api'));
    await tokenForm.getByRole('button', { name: 'Try the token' }).click();
    await expect(tokenForm).toContainText('refused: the token is for audience api://some-other-api, not this API');
    await expect(author.getByTestId('try-outcome')).toHaveCount(1);
  }
  // The member's own page: found by name, their groups, the role, and the route with the links
  // that allow it.
  await author.goto(`/people?q=${encodeURIComponent(member)}`);
  await ready(author, testInfo);
  await author.getByTestId('people-table').getByRole('link', { name: member }).click();
  await expect(author.getByRole('heading', { level: 1 })).toHaveText(member);
  await ready(author, testInfo);
  await expect(author.getByTestId('person-groups')).toContainText(p.group);
  await expect(author.getByTestId('person-roles')).toContainText(p.role);
  const personRoute = author.getByTestId('person-routes').locator('tr', { hasText: `GET ${p.path}` }).first();
  await expect(personRoute).toContainText(p.api);
  await expect(personRoute.getByTestId('route-chain'))
    .toContainText(new RegExp(`member of .*${p.group} → role ${p.role} \\(through .+\\) → grant GET ${p.path.replace(/[{}]/g, '.')} on prod → method AWS_IAM`));
  await expectNoAxeViolations(author, testInfo);
  await screenshot(author, testInfo, 'admin-person-access');
  // "Can they call …?": the granted route is allowed with its chain; another method of the same
  // path is refused, naming their role and what it lacks.
  const apiHref = await personRoute.getByRole('link', { name: p.api }).getAttribute('href');
  const apiId = apiHref!.split('/').pop()!;
  for (const [verb, allowed] of [['GET', true], ['POST', false]] as const) {
    const form = author.getByTestId('explain-form');
    await form.getByLabel('API id').fill(apiId);
    await form.getByLabel('Stage').fill('prod');
    await form.getByLabel('Method').selectOption(verb);
    await form.getByLabel('Path').fill(p.path);
    await form.getByRole('button', { name: 'Explain' }).click();
    await expect(author).toHaveURL(new RegExp(`method=${verb}`));
    const outcome = author.getByTestId('explain-outcome');
    await expect(outcome).toHaveAttribute('data-allowed', String(allowed));
    // (Refused: every role of theirs is named, the other project's too when they have it.)
    await expect(author.getByTestId('explain-reason')).toContainText(allowed
      ? `grant GET ${p.path} on prod of role ${p.role}`
      : `no grant of their roles covers POST ${p.path} on prod: `);
    if (!allowed) await expect(author.getByTestId('explain-reason')).toContainText(`${p.role} (through`);
  }
  await screenshot(author, testInfo, 'admin-person-explain');
  // Their access as of today (the end of the day, UTC), with the downloads: the manifest's
  // SHA-256 and row count are those of the CSV file.
  const asOfToday = new Date().toISOString().slice(0, 10);
  await author.getByTestId('as-of-form').getByLabel('Access as of (end of day, UTC)').fill(asOfToday);
  await author.getByTestId('as-of-form').getByRole('button', { name: 'Show' }).click();
  await expect(author.getByTestId('as-of-badge')).toHaveText(`as of ${asOfToday}`);
  await ready(author, testInfo);
  await expect(author.getByTestId('person-routes').locator('tr', { hasText: `GET ${p.path}` }).first()).toContainText(p.api);
  const csvHref = await author.getByTestId('person-exports').getByRole('link', { name: 'CSV', exact: true }).first().getAttribute('href');
  const personCsv = await (await author.request.get(csvHref!)).text();
  expect(personCsv.split('\r\n')[0]).toBe('person_source,person_oid,person_name,as_of,api_id,api_name,stage,method,path,authorization,chain');
  expect(personCsv).toContain(`,${p.api},prod,GET,${p.path},AWS_IAM,member of `);
  const manifestHref = csvHref!.replace('person-access.csv', 'person-access.manifest.json');
  const personManifest = await (await author.request.get(manifestHref)).json();
  const { createHash } = await import('node:crypto');
  expect(personManifest.sha256).toBe(createHash('sha256').update(personCsv).digest('hex'));
  expect(personManifest.rows).toBe(personCsv.split('\r\n').length - 2);
  expect(personManifest.report).toBe('person-access');
  await screenshot(author, testInfo, 'admin-person-as-of');
  // A date that is not one is said next to its field, and no access is answered for it.
  const badDate = new URL(author.url());
  badDate.searchParams.set('at', '2026-02-31');
  await author.goto(badDate.toString());
  await ready(author, testInfo);
  await expect(author.locator('#at-error')).toContainText('is not a real date');
  await expect(author.getByLabel('Access as of (end of day, UTC)')).toHaveAttribute('aria-invalid', 'true');
  await expect(author.getByRole('heading', { level: 1 })).toHaveText(member);
  await expect(author.getByTestId('person-routes')).toHaveCount(0);
  await expect(author.getByTestId('person-exports')).toHaveCount(0);
  // "Who can call this route?" from the API page's method: the member, with the chain.
  await author.goto(apiHref!);
  await ready(author, testInfo);
  await author.locator(`a[data-testid=who-can-call][href="/apis/${apiId}/callers?route=${encodeURIComponent(`GET ${p.path}`)}"]`).click();
  await expect(author.getByRole('heading', { level: 1 })).toHaveText(`Who can call GET ${p.path}`);
  await ready(author, testInfo);
  await expect(author.getByTestId('decided')).toHaveAttribute('data-decided', 'iam');
  await expect(author.getByTestId('caller-count')).toContainText(/^(\d+ people|1 person) may call it now$/);
  const callerRow = author.getByTestId('caller-table').locator('tr', { hasText: member });
  await expect(callerRow.getByTestId('caller-chain'))
    .toContainText(new RegExp(`member of .*${p.group} → role ${p.role} → grant GET ${p.path.replace(/[{}]/g, '.')} on prod`));
  await expectNoAxeViolations(author, testInfo);
  await screenshot(author, testInfo, 'admin-who-can-call');
  // Before Gatehouse existed, nobody could.
  await author.getByLabel('As of (end of day, UTC)').fill('2020-01-01');
  await author.getByRole('button', { name: 'Show' }).click();
  await expect(author.getByTestId('caller-count')).toHaveText('Nobody may call it as of the end of 2020-01-01 (UTC)');
  await expect(author.getByTestId('no-callers')).toBeVisible();
  // Someone widens the role's policy by hand in AWS. The drift check shows both sides, and
  // adopting (JavaScript on) or reverting (off) it lands in the author's draft, to be reviewed.
  await widenPolicyByHand(p.role);
  await author.goto('/drift');
  await ready(author, testInfo);
  await author.getByRole('button', { name: 'Check for drift now' }).click();
  const drifted = author.getByTestId('drift-items').locator('li', { hasText: p.role });
  await expect(drifted).toContainText('policy edited outside Gatehouse');
  await expect(drifted.locator('section', { hasText: 'In AWS' })).toContainText(`/prod/DELETE${p.path}`);
  await expect(drifted.locator('section', { hasText: 'Desired' })).not.toContainText('/DELETE/');
  await screenshot(author, testInfo, 'admin-drift');
  const adopt = jsOn(testInfo);
  await drifted.getByRole('button', { name: adopt ? /^Adopt/ : /^Revert/ }).click();
  await expect(author.getByRole('link', { name: /Open your draft change set \d+/ })).toBeVisible();
  await author.goto('/');
  await author.getByTestId('home-mine').getByRole('link').first().click();
  await expect(author.getByTestId('items')).toContainText(adopt
    ? `Grant role ${p.role} DELETE ${p.path}`
    : `Push role ${p.role} again (revert drift)`);
  // A drift resolution is a change set of its own, titled for what it does.
  await expect(author.getByRole('heading', { level: 1 }))
    .toContainText(new RegExp(`${adopt ? 'Adopt' : 'Revert'} drift on ${p.role}: (permission set )?policy edited outside Gatehouse`));
  await expect(author.getByTestId('items').locator('li')).toHaveCount(1);
  // Home says how the last drift check went; the role's page shows what Gatehouse generates.
  await author.goto('/');
  await expect(author.getByTestId('home-drift')).toContainText(/differences? between AWS and the approved mappings/);
  await author.goto(`/roles/${p.role}`);
  await expect(author.getByTestId('role-groups')).toContainText(p.group);
  await expect(author.getByTestId('role-broker')).toContainText('through IAM Identity Center');
  await expect(author.getByTestId('role-routes')).toContainText(`GET ${p.path} on ${p.api}`);
  await expect(author.getByTestId('generated-policy')).toContainText(`/prod/GET${p.path}"`);
  await expect(author.getByTestId('role-drift')).toContainText('policy edited outside Gatehouse');
  await screenshot(author, testInfo, 'admin-role-generated');
  await author.goto(`/change-sets/${id}`);
  await ready(author, testInfo);
  // Rolling back puts the reverse into the author's draft, to be reviewed like any change.
  await author.getByRole('button', { name: /Roll back/ }).click();
  await expect(author.getByText(`The reverse of change set ${id} is in a change set of its own`)).toBeVisible();
  await author.getByRole('link', { name: /Open your draft change set \d+/ }).click();
  await expect(author.getByTestId('items')).toContainText(`Revoke from role ${p.role} GET ${p.path}`);
  await expect(author.getByTestId('items')).toContainText(`Unbind ${p.group} from role ${p.role}`);
  await expect(author.getByRole('heading', { level: 1 })).toContainText(`Roll back change set ${id}`);
  await expect(author.getByTestId('items').locator('li')).toHaveCount(2);

  // The API page now says who may call the route.
  await reviewer.goto('/apis');
  await reviewer.getByTestId('api-table').getByRole('link', { name: p.api }).click();
  await expect(reviewer.getByTestId('resource-tree'))
    .toContainText(`callable by ${p.group} via ${p.role} (prod)`);
  // And its matrix: the group's row has a tick under GET on the path.
  await reviewer.getByTestId('matrix-link').click();
  const row = reviewer.getByTestId('matrix').getByRole('row', { name: new RegExp(p.group) });
  await expect(row.getByRole('cell', { name: `can call GET ${p.path}: prod via ${p.role}` })).toHaveText('✓');
  await screenshot(reviewer, testInfo, 'reviewer-matrix');

  // An auditor reads it all, changes nothing, and the server refuses a hand-made edit.
  const auditor = await signedIn(browser, testInfo, 'auditor', `/change-sets/${id}`);
  await expect(auditor.getByRole('heading', { level: 1 })).toContainText('pushed');
  await expect(auditor.getByTestId('push-run')).toContainText('succeeded');
  await expect(auditor.locator('form')).toHaveCount(1); // the sign-out form only
  const edit = await auditor.request.post('/api/mappings/bind', {
    form: { source: 'file', group_id: 'x', role_arn: 'arn:aws:iam::123456789012:role/x', remove: 'false' },
    headers: { Origin: new URL(url).origin, Accept: 'application/json' },
  });
  expect(edit.status()).toBe(403);
  // The access review as of today lists the group, the role and the route.
  const today = new Date().toISOString().slice(0, 10);
  await auditor.goto(`/history/access?at=${today}`);
  await expect(auditor.getByTestId('access-table')).toContainText(p.role);
  await expect(auditor.getByTestId('access-table')).toContainText(`GET ${p.path}`);
  // The role's policy was widened by hand and not yet mended: its rows say so.
  await expect(auditor.getByTestId('access-table').locator('tr', { hasText: p.role }).first().getByTestId('row-drift'))
    .toContainText(/open drift now: (permission set )?policy edited outside Gatehouse/);
  const csv = await auditor.request.get(`/api/reports/access.csv?at=${today}`);
  expect(await csv.text()).toContain(p.role);
  await screenshot(auditor, testInfo, 'auditor-access-report');
  // The change sets table sorts by a column (the order in the URL), pushed ones filtered.
  await auditor.goto('/change-sets?state=pushed');
  await auditor.getByTestId('change-set-table').getByRole('link', { name: 'Title' }).click();
  await expect(auditor).toHaveURL(/state=pushed.*sort=title&dir=asc/);
  await expect(auditor.getByRole('columnheader', { name: 'Title' })).toHaveAttribute('aria-sort', 'ascending');
  await expect(auditor.getByTestId('change-set-table')).toContainText(`${p.group} reads ${p.api}`);
  await auditor.goto(`/mappings?q=${encodeURIComponent(p.group)}`);
  await expect(auditor.getByTestId('mapping-table')).toContainText(p.role);
  await screenshot(auditor, testInfo, 'auditor-mappings');
});

test('the change sets list pages on the server in the order picked, with JavaScript on and off', async ({ page }, testInfo) => {
  // The test above leaves at least two change sets (the approved one and the drift draft).
  await signIn(page, testInfo, 'auditor', '/change-sets?sort=title&dir=asc&size=1');
  const count = page.getByTestId('change-set-count');
  await expect(count).toHaveText(/^1 of (\d{2,}|[2-9]) change sets$/);
  const rows = page.getByTestId('change-set-table').locator('tbody tr');
  await expect(rows).toHaveCount(1);
  const first = (await rows.first().locator('a').textContent())!;
  await expect(page.getByTestId('change-set-table').locator('th[aria-sort=ascending]')).toHaveText('Title');
  await expect(page.getByRole('link', { name: '← Previous' })).toHaveCount(0);
  await page.getByRole('link', { name: 'Next →' }).click();
  await expect(page).toHaveURL(/sort=title&dir=asc&size=1&after=\d+/);
  await expect(rows).toHaveCount(1);
  const second = (await rows.first().locator('a').textContent())!;
  expect(second.toLowerCase() >= first.toLowerCase(), `${second} follows ${first}`).toBe(true);
  await page.getByRole('link', { name: '← Previous' }).click();
  await expect(page).toHaveURL(/before=\d+/);
  await expect(rows.first().locator('a')).toHaveText(first);
  // A new order starts again from its first page, the page size kept.
  await page.getByTestId('change-set-table').getByRole('link', { name: '#', exact: true }).click();
  await expect(page).not.toHaveURL(/after=|before=/);
  await expect(page).toHaveURL(/size=1/);
  await expect(rows).toHaveCount(1);
  await expectNoAxeViolations(page, testInfo);
});
