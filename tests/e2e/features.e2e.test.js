// End-to-end: the console's pages for monitors, alerts, webhooks and workflows (issues 9 and 10) in Debian's chromium
// against a real Kairos server of its own (harness.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { nav, shoot, startWorker, useServer, watchProblems } from './harness.js';

// The receivers some tests start are on loopback: the server under test may call them (SSRF protection is off here;
// the server's tests prove the refusal).
process.env.KAIROS_OUTBOUND_ALLOW_PRIVATE = 'true';
const ctx = useServer();

/** A local HTTP receiver that records every request's body and answers 200. */
async function receiver(t) {
  const received = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c) => { body += c; }).on('end', () => {
      received.push(JSON.parse(body));
      res.end('ok');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  return { url: `http://127.0.0.1:${server.address().port}/hook`, received };
}

/** Waits until the condition holds (polled every 50 ms), failing after the timeout. */
async function until(what, condition, timeout = 15_000) {
  const end = Date.now() + timeout;
  while (!(await condition())) {
    assert.ok(Date.now() < end, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A page signed in as the owner (set up through the printed link on first use). */
async function signedIn(t) {
  const page = await ctx.browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(15_000);
  t.after(() => page.close());
  const problems = watchProblems(page);
  await page.goto(`${ctx.base}/login`);
  const setup = await ctx.api('GET', '/api/v1/setup');
  if (setup.required) {
    await page.goto(ctx.setupUrl);
    await page.getByLabel('Organization').fill('Acme Features');
  }
  await page.getByLabel('Email').fill('owner@example.com');
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: setup.required ? 'Create owner and sign in' : 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  await page.locator('[data-live="connected"]').waitFor();
  return { page, problems };
}

test('a monitor: created in the form, its ping URL pinged from here, up live, its run and log; paused from the list', { timeout: 120_000 }, async (t) => {
  const { page, problems } = await signedIn(t);
  await nav(page, 'Monitors');
  await page.getByText('No monitors yet.').waitFor();
  await page.getByRole('link', { name: 'New monitor' }).first().click();
  await page.getByLabel('Name', { exact: true }).fill('nightly-backup');
  await page.getByLabel('On a cron expression').check();
  await page.getByLabel('Cron expression', { exact: true }).fill('30 2 * * *');
  await page.getByLabel('Time zone', { exact: true }).fill('Europe/Berlin');
  await page.getByTestId('schedule-description').filter({ hasText: /02:30/ }).waitFor();
  await page.getByLabel('Grace', { exact: true }).fill('15');
  await page.getByLabel('Max runtime', { exact: true }).fill('2');
  await page.getByLabel('Max runtime unit').selectOption('hours');
  await page.getByLabel('Tags').fill('backups, prod');
  await shoot(page, 'monitor-new');
  await page.getByRole('button', { name: 'Create monitor' }).click();
  await page.getByRole('heading', { name: 'nightly-backup' }).waitFor();
  await page.locator('h1 [data-monitor-state="new"]').waitFor();
  const created = await ctx.api('GET', '/api/v1/monitors/nightly-backup');
  assert.equal(created.cron, '30 2 * * *');
  assert.equal(created.grace_seconds, 900);
  assert.equal(created.max_runtime_seconds, 7200);

  // The ping URL the page shows is the one the API gives; a start and a success with a log, sent from here.
  const url = (await page.locator('[data-ping-url="Success"]').textContent()).trim();
  assert.equal(url, created.ping_url);
  await page.getByRole('tab', { name: 'crontab' }).click();
  await page.locator('[data-snippet="crontab"]').filter({ hasText: `30 2 * * * curl -fsS -m 10 --retry 5 -o /dev/null ${url}/start` }).waitFor();
  await page.evaluate(() => { window.__kairosNoReload = true; });
  assert.equal((await fetch(`${url}/start?rid=run-1`)).status, 200);
  assert.equal((await fetch(`${url}?rid=run-1`, { method: 'POST', body: 'backed up 42 tables' })).status, 200);
  await page.locator('h1 [data-monitor-state="up"]').waitFor();
  await page.locator('tr[data-outcome="success"]').waitFor();
  await page.getByRole('button', { name: 'Show the log' }).click();
  await page.getByText('backed up 42 tables').waitFor();
  assert.equal(await page.evaluate(() => window.__kairosNoReload), true, 'the monitor page was reloaded');
  await shoot(page, 'monitor');

  // The list: its state and the sparkline of its run; a failure (threshold 1) makes it down and adds a red bar, live.
  await nav(page, 'Monitors');
  await page.locator('tr[data-monitor="nightly-backup"] [data-monitor-state="up"]').waitFor();
  await page.locator('tr[data-monitor="nightly-backup"] [data-sparkline="1"] [data-outcome="success"]').waitFor();
  assert.equal((await fetch(`${url}/3`, { method: 'POST', body: 'disk full' })).status, 200);
  await page.locator('tr[data-monitor="nightly-backup"] [data-monitor-state="down"]').waitFor();
  await page.locator('tr[data-monitor="nightly-backup"] [data-sparkline="2"] [data-outcome="fail"]').waitFor();
  await shoot(page, 'monitors');

  // The organization's ping key under the list: made here, its slug URL pinged from here brings the monitor up.
  await page.getByRole('button', { name: 'Make a key' }).click();
  const orgKey = (await page.locator('[data-org-ping-key]').textContent()).trim();
  assert.equal(orgKey, (await ctx.api('GET', '/api/v1/monitors/ping-key')).ping_key);
  const slugUrl = (await page.locator('[data-slug-url="Success"]').textContent()).trim();
  assert.ok(slugUrl.endsWith(`/ping/${orgKey}/{slug}`), slugUrl);
  assert.equal((await fetch(slugUrl.replace('{slug}', 'nightly-backup'), { method: 'POST', body: 'by slug' })).status, 200);
  await page.locator('tr[data-monitor="nightly-backup"] [data-monitor-state="up"]').waitFor();
  await shoot(page, 'monitors-slug-urls');

  // Pause from the list with a reason; the API confirms it.
  await page.getByRole('button', { name: 'Pause nightly-backup' }).click();
  await page.getByLabel('Reason (optional)').fill('moving the backup disk');
  await page.getByRole('button', { name: 'Pause monitor' }).click();
  await page.locator('tr[data-monitor="nightly-backup"] [data-monitor-state="paused"]').waitFor();
  const paused = await ctx.api('GET', '/api/v1/monitors/nightly-backup');
  assert.equal(paused.paused, true);
  assert.equal(paused.pause_reason, 'moving the backup disk');
  assert.deepEqual(problems, []);
});

test('a workflow: created through the API, its DAG drawn, each node changing state live as a worker runs the steps', { timeout: 120_000 }, async (t) => {
  const { page, problems } = await signedIn(t);
  const job = (type) => ({ queue: 'etl', type, payload: { day: '2026-12-03' } });
  const created = await ctx.api('POST', '/api/v1/workflows', {
    name: 'nightly-etl',
    steps: [
      { id: 'extract', job: job('etl.extract') },
      { id: 'clean', job: job('etl.clean'), depends_on: ['extract'] },
      { id: 'enrich', job: job('etl.enrich'), depends_on: ['extract'] },
      { id: 'load', job: job('etl.load'), depends_on: ['clean', 'enrich'] },
    ],
  });
  const jobOf = Object.fromEntries(created.steps.map((s) => [s.id, s.job_id]));

  await nav(page, 'Workflows');
  await page.locator(`tr[data-workflow="${created.id}"] [data-state="running"]`).waitFor();
  await shoot(page, 'workflows');
  await page.getByRole('link', { name: 'nightly-etl' }).click();
  await page.getByRole('heading', { name: 'nightly-etl' }).waitFor();
  const node = (id, state) => page.locator(`.react-flow__node [data-step="${id}"][data-step-state="${state}"]`);
  await node('extract', 'queued').waitFor();
  for (const id of ['clean', 'enrich', 'load']) await node(id, 'pending').waitFor();
  // Four nodes and four edges drawn, the children right of their parents (the layout's direction).
  assert.equal(await page.locator('.react-flow__node').count(), 4);
  assert.equal(await page.locator('.react-flow__edge').count(), 4);
  const box = async (id) => page.locator(`.react-flow__node [data-step="${id}"]`).boundingBox();
  assert.ok((await box('clean')).x > (await box('extract')).x + 100);
  assert.ok((await box('load')).x > (await box('enrich')).x + 100);
  await page.evaluate(() => { window.__kairosNoReload = true; });

  // A worker on the HTTP protocol runs the steps; each node follows its job, live.
  const workerKey = (await ctx.api('POST', '/api/v1/api-keys', { name: 'etl-worker', scopes: ['worker'], expires_at: null })).key;
  const worker = await startWorker(ctx, workerKey, 'etl');
  const extract = await worker.fetch();
  assert.equal(extract.id, jobOf.extract);
  await node('extract', 'running').waitFor();
  await shoot(page, 'workflow-running');
  await worker.ack(extract, { rows: 1200 });
  await node('extract', 'succeeded').waitFor();
  await node('clean', 'queued').waitFor();
  await node('enrich', 'queued').waitFor();
  const second = await worker.fetch();
  const third = await worker.fetch();
  assert.deepEqual([second.id, third.id].sort(), [jobOf.clean, jobOf.enrich].sort());
  await worker.ack(second, { ok: true });
  await worker.ack(third, { ok: true });
  await node('load', 'queued').waitFor();
  const load = await worker.fetch();
  assert.equal(load.id, jobOf.load);
  await worker.ack(load, { loaded: 1200 });
  await node('load', 'succeeded').waitFor();
  await page.locator('h1 [data-state="succeeded"]').waitFor();
  assert.equal(await page.evaluate(() => window.__kairosNoReload), true, 'the workflow page was reloaded');
  await shoot(page, 'workflow');

  // A node opens its job; the job links back to its workflow.
  await page.locator('.react-flow__node [data-step="enrich"]').click();
  await page.waitForURL(new RegExp(`/jobs/${jobOf.enrich}$`));
  await page.getByRole('heading', { name: /etl\.enrich/ }).waitFor();
  await page.getByRole('link', { name: 'step enrich' }).click();
  await page.getByRole('heading', { name: 'nightly-etl' }).waitFor();
  assert.deepEqual(problems, []);
});

test('a webhook: created in the UI with its secret shown once, a test event in its delivery log, edited, deleted', { timeout: 120_000 }, async (t) => {
  const { page, problems } = await signedIn(t);
  await nav(page, 'Webhooks');
  await page.getByText('No webhooks yet.').waitFor();
  await page.getByRole('button', { name: 'New webhook' }).click();
  await page.getByLabel('URL').fill('https://hooks.example.com/kairos');
  await page.getByLabel('Event types').fill('job.failed, monitor.*');
  await page.getByRole('button', { name: 'Create webhook' }).click();
  const secret = (await page.getByTestId('webhook-secret').textContent()).trim();
  assert.ok(secret.length >= 16, `a secret: ${secret}`);
  await shoot(page, 'webhook-created');
  await page.getByRole('button', { name: 'I have copied it' }).click();
  const [hook] = (await ctx.api('GET', '/api/v1/webhooks')).items;
  assert.deepEqual(hook.event_types, ['job.failed', 'monitor.*']);
  assert.ok(!JSON.stringify(hook).includes(secret), 'the list shows the secret');

  await page.getByRole('link', { name: 'https://hooks.example.com/kairos' }).click();
  await page.getByText('No deliveries yet.').waitFor();
  await page.getByRole('button', { name: 'Send test event' }).click();
  await page.locator('tr[data-delivery="webhook.test"]').waitFor();
  await page.getByRole('button', { name: 'Show the delivery' }).click();
  await page.getByRole('tree', { name: 'Body' }).waitFor();
  await shoot(page, 'webhook');

  // Edited: another URL and event types; the signing secret stays.
  await page.getByRole('button', { name: 'Edit', exact: true }).click();
  await page.getByLabel('URL').fill('https://hooks.example.com/kairos-v2');
  await page.getByLabel('Event types').fill('job.*');
  await page.getByRole('button', { name: 'Save webhook' }).click();
  await page.getByRole('heading').filter({ hasText: 'https://hooks.example.com/kairos-v2' }).waitFor();
  const edited = await ctx.api('GET', `/api/v1/webhooks/${hook.id}`);
  assert.equal(edited.url, 'https://hooks.example.com/kairos-v2');
  assert.deepEqual(edited.event_types, ['job.*']);
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  await page.getByRole('button', { name: 'Delete webhook' }).click();
  await page.getByText('No webhooks yet.').waitFor();
  assert.equal((await ctx.api('GET', '/api/v1/webhooks')).items.length, 0);
  assert.deepEqual(problems, []);
});

test('alerts: a channel and a rule created and edited in the UI (a secret left empty kept), an incident resolved and its timeline, maintenance windows now and planned', { timeout: 120_000 }, async (t) => {
  const { page, problems } = await signedIn(t);
  await nav(page, 'Alerts');
  await page.getByText('Nothing is on fire.').waitFor();
  await page.getByRole('tab', { name: 'Channels' }).click();
  await page.getByRole('button', { name: 'New channel' }).click();
  await page.getByLabel('Name').fill('ops-hook');
  await page.getByLabel('Kind').selectOption('webhook');
  await page.getByLabel('URL').fill('https://alerts.example.com/kairos');
  await page.getByRole('button', { name: 'Create channel' }).click();
  await page.locator('tr[data-channel="ops-hook"]').waitFor();
  await shoot(page, 'alert-channels');
  await page.getByRole('tab', { name: 'Rules' }).click();
  await page.getByRole('button', { name: 'New rule' }).click();
  await page.getByLabel('Name').fill('backup-down');
  await page.getByLabel('Fires on').selectOption('monitor');
  await page.getByLabel('States').fill('down');
  await page.getByRole('checkbox', { name: 'ops-hook' }).check();
  await page.getByRole('button', { name: 'Create rule' }).click();
  await page.locator('tr[data-rule="backup-down"]').waitFor();
  const rule = await ctx.api('GET', '/api/v1/alert-rules/backup-down');
  assert.equal(rule.kind, 'monitor');
  assert.deepEqual(rule.monitor_states, ['down']);
  assert.deepEqual(rule.channels, ['ops-hook']);
  await shoot(page, 'alert-rules');

  // The rule edited: another state too.
  await page.getByRole('button', { name: 'Edit backup-down' }).click();
  await page.getByLabel('States').fill('late, down');
  await page.getByRole('button', { name: 'Save rule' }).click();
  await page.locator('tr[data-rule="backup-down"]').filter({ hasText: 'late, down' }).waitFor();
  assert.deepEqual((await ctx.api('GET', '/api/v1/alert-rules/backup-down')).monitor_states, ['late', 'down']);

  // The channel edited: a signing secret added; then only its URL changed, the secret field left empty keeps it.
  await page.getByRole('tab', { name: 'Channels' }).click();
  await page.getByRole('button', { name: 'Edit ops-hook' }).click();
  assert.equal(await page.getByLabel('URL').inputValue(), 'https://alerts.example.com/kairos');
  await page.getByLabel('Signing secret').fill('whsec_e2e_channel_secret_4567');
  await page.getByRole('button', { name: 'Save channel' }).click();
  await page.getByRole('button', { name: 'Save channel' }).waitFor({ state: 'detached' });
  assert.equal((await ctx.api('GET', '/api/v1/alert-channels/ops-hook')).config.secret, '••••4567');
  await page.getByRole('button', { name: 'Edit ops-hook' }).click();
  assert.equal(await page.getByLabel('Signing secret').inputValue(), '');
  await page.getByLabel('URL').fill('https://alerts.example.com/kairos-v2');
  await page.getByRole('button', { name: 'Save channel' }).click();
  await page.locator('tr[data-channel="ops-hook"]').filter({ hasText: 'https://alerts.example.com/kairos-v2' }).waitFor();
  const channel = await ctx.api('GET', '/api/v1/alert-channels/ops-hook');
  assert.equal(channel.config.url, 'https://alerts.example.com/kairos-v2');
  assert.equal(channel.config.secret, '••••4567');

  // An incident (a job failed for good), resolved by hand, then its timeline among the resolved ones.
  await ctx.api('POST', '/api/v1/alert-rules', { name: 'e2e-failures', kind: 'job_failed', queue: 'e2e-alerts', channels: ['ops-hook'] });
  await ctx.api('POST', '/api/v1/jobs', { queue: 'e2e-alerts', type: 'doomed', max_attempts: 1 });
  const { key: workerKey } = await ctx.api('POST', '/api/v1/api-keys', { name: 'e2e alerts worker', scopes: ['worker'] });
  const worker = await startWorker(ctx, workerKey, 'e2e-alerts');
  await worker.fail(await worker.fetch(), { message: 'e2e boom' });
  await page.getByRole('tab', { name: 'Incidents' }).click();
  await page.locator('tr[data-incident="e2e-failures"]').waitFor({ timeout: 30_000 });
  await page.getByRole('button', { name: /^Resolve 1 job failed/ }).click();
  await page.getByLabel('Incident state').selectOption('resolved');
  await page.getByRole('button', { name: /^History of 1 job failed/ }).click();
  await page.locator('[data-incident-event="opened"]').waitFor();
  await page.locator('[data-incident-event="resolved"]').waitFor();
  await shoot(page, 'incident-history');
  await page.keyboard.press('Escape');

  await page.getByRole('tab', { name: 'Maintenance' }).click();
  await page.getByLabel('Reason').fill('database upgrade');
  await page.getByRole('button', { name: 'Start now' }).click();
  await page.locator('tr[data-window="*"]').filter({ hasText: 'database upgrade' }).waitFor();

  // A window planned for tomorrow.
  const tomorrow = new Date(Date.now() + 86_400_000);
  const local = new Date(tomorrow.getTime() - tomorrow.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
  await page.getByLabel('Silence').selectOption('backup-down');
  await page.getByLabel('Starts').fill(local);
  await page.getByLabel('Reason').fill('planned upgrade');
  await page.getByRole('button', { name: 'Plan window' }).click();
  await page.locator('tr[data-window="backup-down"]').filter({ hasText: 'planned' }).waitFor();
  const planned = (await ctx.api('GET', '/api/v1/maintenance-windows')).items.find((w) => w.reason === 'planned upgrade');
  assert.equal(planned.active, false);
  assert.ok(Math.abs(new Date(planned.starts_at).getTime() - new Date(local).getTime()) < 60_000, planned.starts_at);
  await shoot(page, 'maintenance-windows');
  assert.deepEqual(problems, []);
});

test('a channel\'s test send and a webhook delivery redelivered from the console, against a local receiver', { timeout: 120_000 }, async (t) => {
  const { page, problems } = await signedIn(t);
  const local = await receiver(t);

  // The channels tab: a test send that goes out, and one that does not (nothing listens on port 9).
  await ctx.api('POST', '/api/v1/alert-channels', { name: 'e2e-local', kind: 'webhook', config: { url: local.url } });
  await ctx.api('POST', '/api/v1/alert-channels', { name: 'e2e-nowhere', kind: 'webhook', config: { url: 'http://127.0.0.1:9/hook' } });
  await nav(page, 'Alerts');
  await page.getByRole('tab', { name: 'Channels' }).click();
  await page.getByRole('button', { name: 'Test e2e-local' }).click();
  await page.getByText('e2e-local accepted it.').waitFor();
  await until('the test notice', () => local.received.length === 1);
  assert.equal(local.received[0].type, 'alert.test');
  await page.getByRole('button', { name: 'Test e2e-nowhere' }).click();
  await page.getByText('e2e-nowhere did not take it').waitFor();

  // A webhook's test event delivered, then sent again from its delivery log: the same event, a second attempt.
  const hook = await ctx.api('POST', '/api/v1/webhooks', { url: local.url, event_types: ['job.failed'] });
  await page.goto(`${ctx.base}/webhooks/${hook.id}`);
  await page.getByRole('button', { name: 'Send test event' }).click();
  await until('the test event', () => local.received.length === 2);
  const [delivery] = (await ctx.api('GET', `/api/v1/webhooks/${hook.id}/deliveries`)).items;
  await until('the delivery to succeed', async () => (await ctx.api('GET', `/api/v1/webhooks/${hook.id}/deliveries/${delivery.id}`)).state === 'succeeded');
  await page.reload();
  await page.locator('tr[data-delivery="webhook.test"][data-delivery-state="succeeded"]').waitFor();
  await page.getByRole('button', { name: 'Redeliver webhook.test' }).click();
  await page.getByText('Delivery sent again').waitFor();
  await until('the redelivery', () => local.received.length === 3);
  assert.equal(local.received[2].id, local.received[1].id);
  assert.equal(local.received[2].type, 'webhook.test');
  await until('the second attempt', async () => (await ctx.api('GET', `/api/v1/webhooks/${hook.id}/deliveries/${delivery.id}`)).attempts === 2);
  await shoot(page, 'webhook-redelivered');
  assert.deepEqual(problems, []);
});

test('workflow templates: one run from the workflows page, a schedule made in the form that starts it, its run in the history', { timeout: 120_000 }, async (t) => {
  const { page, problems } = await signedIn(t);
  const job = (type) => ({ queue: 'reports', type });
  await ctx.api('PUT', '/api/v1/workflow-templates/weekly-report', {
    steps: [
      { id: 'gather', job: job('report.gather') },
      { id: 'render', job: job('report.render'), depends_on: ['gather'] },
      { id: 'mail', job: job('report.mail'), depends_on: ['render'] },
    ],
  });

  // The template on the workflows page; its run button makes an instance and opens it.
  await nav(page, 'Workflows');
  const template = page.locator('[data-template="weekly-report"]');
  await template.getByText('3 steps: gather → … → mail').waitFor();
  await shoot(page, 'workflow-templates');
  await template.getByRole('button', { name: 'Run weekly-report' }).click();
  await page.getByRole('heading', { name: 'weekly-report' }).waitFor();
  await page.locator('.react-flow__node [data-step="gather"][data-step-state="queued"]').waitFor();
  assert.equal(await page.locator('.react-flow__node').count(), 3);
  const runs = await ctx.api('GET', '/api/v1/workflows?name=weekly-report');
  assert.equal(runs.items.length, 1);
  assert.ok(page.url().endsWith(`/workflows/${runs.items[0].id}`));

  // A schedule that starts the template, made in the form; triggered, its run links to the new instance.
  await nav(page, 'Schedules');
  await page.getByRole('link', { name: 'New schedule' }).first().click();
  await page.getByLabel('Name', { exact: true }).fill('weekly-report');
  await page.getByLabel('Cron expression', { exact: true }).fill('0 7 * * 1');
  await page.getByLabel('Each run starts').selectOption('workflow');
  assert.equal(await page.getByLabel('Type', { exact: true }).count(), 0);
  await page.getByLabel('Workflow template').selectOption('weekly-report');
  await shoot(page, 'schedule-new-workflow');
  await page.getByRole('button', { name: 'Create schedule' }).click();
  await page.getByRole('heading', { name: 'weekly-report' }).waitFor();
  const saved = await ctx.api('GET', '/api/v1/schedules/weekly-report');
  assert.equal(saved.workflow, 'weekly-report');
  assert.equal(saved.job, null);
  await page.getByTestId('schedule-workflow').getByRole('link', { name: 'weekly-report' }).waitFor();
  await page.getByRole('button', { name: 'Trigger now' }).click();
  await page.locator('tr[data-trigger="manual"] [data-state="running"]').waitFor();
  const history = await ctx.api('GET', '/api/v1/schedules/weekly-report/runs');
  const instance = history.items[0].workflow_id;
  assert.ok(instance);
  await shoot(page, 'schedule-workflow');
  await page.getByRole('link', { name: `Open workflow ${instance}` }).click();
  await page.waitForURL(new RegExp(`/workflows/${instance}$`));
  await page.getByRole('heading', { name: 'weekly-report' }).waitFor();
  assert.deepEqual(problems, []);
});

test('manifests: applied objects carry a badge and their edit and delete are disabled, until unmarked', { timeout: 120_000 }, async (t) => {
  const { page, problems } = await signedIn(t);
  const applied = await ctx.api('POST', '/api/v1/manifests/apply', {
    manifests: [
      { kind: 'Queue', metadata: { name: 'gitops' }, spec: { concurrency_limit: 3 } },
      { kind: 'Schedule', metadata: { name: 'gitops-nightly' }, spec: { cron: '0 3 * * *', job: { queue: 'gitops', type: 'report.send' } } },
    ],
  });
  assert.deepEqual(applied.changes.map((c) => `${c.action} ${c.kind}`), ['create Queue', 'create Schedule']);

  await page.goto(`${ctx.base}/schedules/gitops-nightly`);
  await page.getByRole('heading', { name: 'gitops-nightly' }).waitFor();
  const badge = page.locator('[data-managed]');
  await badge.waitFor();
  assert.match(await badge.getAttribute('title'), /kairos unmanage Schedule gitops-nightly/);
  assert.ok(await page.getByRole('button', { name: 'Edit' }).isDisabled());
  assert.ok(await page.getByRole('button', { name: 'Delete' }).isDisabled());
  // Operating it stays allowed: pausing is not editing what the manifest declares.
  assert.ok(await page.getByRole('button', { name: 'Pause' }).isEnabled());
  await shoot(page, 'schedule-managed');

  await nav(page, 'Schedules');
  await page.locator('tr[data-schedule="gitops-nightly"] [data-managed]').waitFor();

  await page.goto(`${ctx.base}/queues/gitops`);
  await page.locator('[data-managed]').waitFor();
  assert.ok(await page.getByRole('button', { name: 'Delete queue' }).isDisabled());

  // Unmarked: the badge goes, edit and delete come back.
  await ctx.api('POST', '/api/v1/manifests/unmanage', { kind: 'Schedule', name: 'gitops-nightly' });
  await page.goto(`${ctx.base}/schedules/gitops-nightly`);
  await page.getByRole('link', { name: 'Edit' }).waitFor();
  assert.equal(await page.locator('[data-managed]').count(), 0);
  assert.ok(await page.getByRole('button', { name: 'Delete' }).isEnabled());
  assert.deepEqual(problems, []);
});
