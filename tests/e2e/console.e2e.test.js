// End-to-end: the console in Debian's chromium against a real Kairos server (harness.js): the walk of issues 8 and 9.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nav, setUpOwner, shoot, startWorker as startWorkerWith, useServer, watchProblems } from './harness.js';

const ctx = useServer();
const apiCall = (...args) => ctx.api(...args);
const startWorker = (key, queue) => startWorkerWith(ctx, key, queue);

test('the walk: setup, login, live jobs, a failure and its retry, pause a queue, API keys, a schedule, log out', { timeout: 240_000 }, async () => {
  const page = await ctx.browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(15_000);
  // Answers the walk provokes on purpose (a 400 for a wrong cron in the preview, a 401 for /auth/me once signed out)
  // are logged by the browser as failed loads; what counts is no script error and no server error.
  const problems = watchProblems(page);

  // First run: the printed link, the form, and the dashboard signed in.
  await setUpOwner(page, ctx, 'Acme E2E', { onForm: () => shoot(page, 'setup') });
  assert.equal(new URL(page.url()).pathname, '/');
  await page.getByTestId('organization-name').filter({ hasText: 'Acme E2E' }).waitFor();

  // Sign out and in again through the login page.
  await page.getByRole('button', { name: 'User menu' }).click();
  await page.getByRole('menuitem', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await shoot(page, 'login');
  await page.getByLabel('Email').fill('owner@example.com');
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  await page.locator('[data-live="connected"]').waitFor();
  await page.getByTestId('system-version').waitFor();

  // The jobs page, empty; then jobs enqueued through the API show up without a reload.
  await nav(page, 'Jobs');
  await page.getByText('No jobs match these filters.').waitFor();
  await shoot(page, 'jobs-empty');
  await page.evaluate(() => { window.__kairosNoReload = true; });
  const ids = [];
  for (let i = 0; i < 3; i++) {
    const job = await apiCall('POST', '/api/v1/jobs', { queue: 'e2e', type: 'report.build', payload: { n: i, customer: { id: 42, tags: ['a', 'b'] } }, max_attempts: 1, tags: ['nightly'] });
    ids.push(job.id);
  }
  for (const id of ids) await page.locator(`tr[data-job-id="${id}"]`).waitFor();
  assert.equal(await page.evaluate(() => window.__kairosNoReload), true, 'the jobs page was reloaded');
  await shoot(page, 'jobs');

  // A worker (the HTTP protocol, a worker key) fails the oldest job; the list shows it failed, live.
  const workerKey = (await apiCall('POST', '/api/v1/api-keys', { name: 'e2e-worker', scopes: ['worker'], expires_at: null })).key;
  const worker = await startWorker(workerKey, 'e2e');
  const leased = await worker.fetch();
  assert.equal(leased.id, ids[0]);
  const stack = 'at Reports.Build(Customer c) in Reports.cs:line 42\n   at Worker.Run()';
  await worker.fail(leased, { message: 'customer 42 has no address', type: 'InvalidOperationException', stack });
  await page.locator(`tr[data-job-id="${ids[0]}"] [data-state="failed"]`).waitFor();

  // The search finds it by its error message, and only it.
  await page.getByLabel('Search jobs').fill('no address');
  await page.keyboard.press('Enter');
  await page.waitForURL(/q=no\+address|q=no%20address/);
  await page.locator(`tr[data-job-id="${ids[0]}"]`).waitFor();
  await page.locator(`tr[data-job-id="${ids[1]}"]`).waitFor({ state: 'detached' });
  assert.equal(await page.locator('tr[data-job-id]').count(), 1);
  await shoot(page, 'jobs-search');

  // Its detail: the error and the stack; retry from the page, the worker succeeds, the page shows it live.
  await page.getByRole('link', { name: `Open job ${ids[0]}` }).click();
  await page.getByRole('heading', { name: /report\.build/ }).waitFor();
  await page.getByText('customer 42 has no address').first().waitFor();
  assert.equal(await page.getByLabel('Stack trace').textContent(), stack);
  await page.getByLabel('Timeline').getByText('Attempt 1 failed').waitFor();
  await shoot(page, 'job-failed');
  await page.getByRole('button', { name: 'Retry', exact: true }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Retry' }).click();
  await page.locator('h1 [data-state="queued"]').waitFor();
  const again = await worker.fetch();
  assert.equal(again.id, ids[0]);
  await apiCall('POST', `/api/v1/jobs/${again.id}/heartbeat`, { lease_token: again.lease_token, extend_ms: null, progress: { percent: 60, message: 'rendering' } }, workerKey);
  await page.getByRole('progressbar', { name: 'Progress' }).and(page.locator('[aria-valuenow="60"]')).waitFor();
  await shoot(page, 'job-running');
  await worker.ack(again, { pages: 12 });
  await page.locator('h1 [data-state="succeeded"]').waitFor();
  await page.getByLabel('Result').filter({ hasText: '"pages": 12' }).waitFor();
  // The earlier attempt's history stays.
  await page.getByLabel('Timeline').getByText('Attempt 1 failed').waitFor();
  await shoot(page, 'job-succeeded');

  // Clone it: the form comes filled in; the clone is enqueued.
  await page.getByRole('link', { name: 'Clone' }).click();
  await page.getByRole('heading', { name: 'Clone job' }).waitFor();
  assert.equal(await page.getByLabel('Type').inputValue(), 'report.build');
  await page.getByLabel('Payload (JSON)').fill('{"n": 99,');
  await page.locator('[data-json-valid="false"]').waitFor();
  await shoot(page, 'job-new-invalid');
  await page.getByLabel('Payload (JSON)').fill('{"n": 99}');
  await page.getByRole('button', { name: 'Enqueue job' }).click();
  await page.waitForURL(/\/jobs\/[0-9a-f-]{36}$/);
  await page.getByRole('heading', { name: /report\.build/ }).waitFor();
  const cloneId = new URL(page.url()).pathname.split('/').pop();
  assert.deepEqual((await apiCall('GET', `/api/v1/jobs/${cloneId}`)).payload, { n: 99 });

  // Workers: the list and the worker's page.
  await nav(page, 'Workers');
  await page.getByRole('link', { name: 'e2e-worker' }).click();
  await page.locator('[data-worker-state="active"]').waitFor();
  await shoot(page, 'worker');

  // Pause the queue from its page with a reason; the API confirms it.
  await nav(page, 'Queues');
  await page.locator('tr[data-queue="e2e"]').waitFor();
  await shoot(page, 'queues');
  await page.getByRole('link', { name: 'e2e', exact: true }).click();
  await page.getByRole('heading', { name: 'e2e' }).waitFor();
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await page.getByLabel('Reason (optional)').fill('e2e maintenance');
  await page.getByRole('button', { name: 'Pause queue' }).click();
  await page.locator('[data-paused]').waitFor();
  await page.getByTestId('pause-reason').filter({ hasText: 'e2e maintenance' }).waitFor();
  const paused = await apiCall('GET', '/api/v1/queues/e2e');
  assert.equal(paused.paused, true);
  assert.equal(paused.pause_reason, 'e2e maintenance');
  await shoot(page, 'queue');

  // API keys: create one (shown once, with a copy button), it works; revoke it, it no longer does.
  await nav(page, 'API keys');
  await page.getByRole('button', { name: 'New API key' }).click();
  await page.getByLabel('Name').fill('ci-deploy');
  await page.getByRole('checkbox', { name: /^read/ }).check();
  await page.getByRole('checkbox', { name: /^worker/ }).uncheck();
  await page.getByRole('button', { name: 'Create key' }).click();
  const shown = (await page.getByTestId('new-api-key').textContent()).trim();
  assert.match(shown, /^kx_/);
  await shoot(page, 'api-key-created');
  await page.getByRole('button', { name: 'I have copied it' }).click();
  await page.locator('tr[data-api-key="ci-deploy"]').waitFor();
  assert.equal((await apiCall('GET', '/api/v1/queues', undefined, shown)).items.length, 1);
  await shoot(page, 'api-keys');
  await page.getByRole('button', { name: 'Revoke ci-deploy' }).click();
  await page.getByRole('button', { name: 'Revoke key' }).click();
  await page.locator('tr[data-api-key="ci-deploy"]').waitFor({ state: 'detached' });
  const refused = await fetch(`${ctx.base}/api/v1/queues`, { headers: { Authorization: `Bearer ${shown}` } });
  assert.equal(refused.status, 401);
  assert.ok(!(await apiCall('GET', '/api/v1/api-keys')).items.some((k) => k.name === 'ci-deploy'));

  // A schedule: created in the form with its live preview, triggered, its run in the history.
  await nav(page, 'Schedules');
  await page.getByText('No schedules yet.').waitFor();
  await page.getByRole('link', { name: 'New schedule' }).first().click();
  await page.getByLabel('Name', { exact: true }).fill('nightly-report');
  await page.getByLabel('Cron expression', { exact: true }).fill('0 25 * * *');
  await page.locator('[data-preview-error]').filter({ hasText: /hour/ }).waitFor();
  await page.getByLabel('Cron expression', { exact: true }).fill('30 2 * * 1-5');
  await page.getByLabel('Time zone', { exact: true }).fill('Europe/Berlin');
  await page.getByTestId('schedule-description').filter({ hasText: /02:30/ }).waitFor();
  assert.equal(await page.getByTestId('schedule-next').locator('li').count(), 5);
  await page.getByLabel('Queue', { exact: true }).fill('reports');
  await page.getByLabel('Type', { exact: true }).fill('report.nightly');
  await page.getByLabel('Payload (JSON)').fill('{"kind": "nightly"}');
  await shoot(page, 'schedule-new');
  await page.getByRole('button', { name: 'Create schedule' }).click();
  await page.getByRole('heading', { name: 'nightly-report' }).waitFor();
  assert.equal((await apiCall('GET', '/api/v1/schedules/nightly-report')).cron, '30 2 * * 1-5');
  await page.getByText('No runs yet').waitFor();
  await page.getByRole('button', { name: 'Trigger now' }).click();
  await page.locator('tr[data-trigger="manual"] [data-state="queued"]').waitFor();
  const runs = await apiCall('GET', '/api/v1/schedules/nightly-report/runs');
  assert.equal(runs.items.length, 1);
  assert.equal(runs.items[0].trigger, 'manual');
  await shoot(page, 'schedule');
  await nav(page, 'Schedules');
  await page.locator('tr[data-schedule="nightly-report"] [data-state="queued"]').waitFor();
  await shoot(page, 'schedules');

  // The rest of the pages, for the screenshots: members, audit log (the pause is there), settings, dashboard.
  await nav(page, 'Members');
  await page.locator('tr[data-member="owner@example.com"]').waitFor();
  await shoot(page, 'members');
  await nav(page, 'Audit log');
  await page.locator('tr[data-audit="queue.pause"]').waitFor();
  await shoot(page, 'audit');
  await nav(page, 'Settings');
  await page.getByTestId('profile-name').waitFor();
  await shoot(page, 'settings');
  // Bulk: cancel every queued job of the queue, the dialog says how many first.
  const queuedBefore = (await apiCall('GET', '/api/v1/jobs?queue=e2e&state=queued')).items.length;
  assert.ok(queuedBefore >= 2);
  await page.goto(`${ctx.base}/jobs?queue=e2e&state=queued`);
  await page.locator('tr[data-job-id]').first().waitFor();
  // The empty note is what the walk waits on after the cancel: it must not show beside rows (it once did, always, and
  // the wait below passed before the server had cancelled anything).
  assert.equal(await page.getByText('No jobs match these filters.').count(), 0, 'the jobs page says it is empty beside its rows');
  await page.getByRole('button', { name: /All matching/ }).click();
  await page.getByRole('menuitem', { name: /Cancel every matching job/ }).click();
  await page.getByTestId('bulk-count').filter({ hasText: String(queuedBefore) }).waitFor();
  await shoot(page, 'jobs-bulk-confirm');
  await page.getByRole('button', { name: `Cancel ${queuedBefore} jobs` }).click();
  await page.getByText('No jobs match these filters.').waitFor();
  assert.equal((await apiCall('GET', '/api/v1/jobs?queue=e2e&state=queued')).items.length, 0);
  assert.equal((await apiCall('GET', '/api/v1/jobs?queue=e2e&state=cancelled')).items.length, queuedBefore);

  // The dashboard: KPIs, charts drawn, the activity feed.
  await nav(page, 'Dashboard');
  await page.getByTestId('system-version').waitFor();
  await page.getByRole('img', { name: /Jobs enqueued, succeeded and failed/ }).locator('canvas').waitFor();
  await page.getByRole('img', { name: /Jobs waiting per queue/ }).locator('canvas').waitFor();
  await page.getByTestId('kpi-succeeded-24h').filter({ hasText: /^[1-9]/ }).waitFor();
  await shoot(page, 'dashboard');

  // Keyboard: g then j goes to the jobs, / puts the cursor in the search.
  await page.keyboard.press('g');
  await page.keyboard.press('j');
  await page.getByRole('heading', { name: 'Jobs' }).waitFor();
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'f-search');

  // ? lists the shortcuts (the dialog's code comes when asked for); Escape closes it.
  await page.keyboard.press('Escape');
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('?');
  await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).getByText('Show these shortcuts').waitFor();
  await page.keyboard.press('Escape');
  await page.getByRole('dialog').waitFor({ state: 'detached' });

  // Log out: the console is gone, the API refuses the old session.
  await page.getByRole('button', { name: 'User menu' }).click();
  await page.getByRole('menuitem', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.goto(`${ctx.base}/jobs`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();

  assert.deepEqual(problems, []);
  await page.close();
});

test('a phone-width console: the jobs, a job and the schedules', { timeout: 120_000 }, async () => {
  const context = await ctx.browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(`${ctx.base}/login`);
  await page.getByLabel('Email').fill('owner@example.com');
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  await page.getByTestId('system-version').waitFor();
  await shoot(page, 'phone-dashboard');
  await page.goto(`${ctx.base}/jobs`);
  await page.locator('tr[data-job-id]').first().waitFor();
  // Nothing is wider than the screen but the tables, which scroll in their cards.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 1, `the page is ${overflow}px wider than the phone`);
  await shoot(page, 'phone-jobs');
  await page.locator('tr[data-job-id] a[aria-label^="Open job"]').first().click();
  await page.getByRole('heading', { name: /report\./ }).waitFor();
  await shoot(page, 'phone-job');
  await page.goto(`${ctx.base}/schedules/nightly-report`);
  await page.getByRole('heading', { name: 'nightly-report' }).waitFor();
  await shoot(page, 'phone-schedule');
  await context.close();
});
