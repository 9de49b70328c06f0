// End-to-end: the console in Debian's chromium (playwright-core, no browser download) against a real Kairos server
// started here on a temp data folder and a free port. Needs a built server (dotnet build or dotnet test first).
// Screenshots go to $KAIROS_E2E_OUT (default: TestResults/e2e under the repository).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const out = process.env.KAIROS_E2E_OUT ?? join(repo, 'TestResults', 'e2e');
const adminKey = 'kx_e2e_admin_5b7c1d9e2f3a4b6c8d0e';
const browserPath = process.env.KAIROS_E2E_CHROMIUM ?? '/usr/bin/chromium';

/** The built CLI (kairos.dll), Debug or Release, whichever was built last. */
function serverDll() {
  const candidates = ['Debug', 'Release'].map((c) => join(repo, 'src/Kairos.Cli/bin', c, 'net10.0/kairos.dll')).filter(existsSync);
  assert.ok(candidates.length > 0, 'no built server: run `dotnet build` (or `dotnet test`) first');
  return candidates[0];
}

/** Starts the server on a free port and resolves with its address and the printed setup link. */
function startServer(data) {
  const env = { ...process.env, KAIROS_ADMIN_API_KEY: adminKey };
  for (const k of ['KAIROS_PORT', 'KAIROS_DATA', 'KAIROS_STORE', 'KAIROS_DATABASE_URL']) delete env[k];
  const child = spawn('dotnet', [serverDll(), 'server', '--port', '0', '--data', data], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const ready = new Promise((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server printed no setup link within 60 s:\n${output}`)), 60_000);
    const onData = (chunk) => {
      output += chunk;
      const link = output.match(/Open (http:\/\/\S+\/setup\?token=\S+) to create the first user/);
      if (link) {
        clearTimeout(timer);
        const url = new URL(link[1]);
        resolveReady({ base: url.origin, setupUrl: url.href });
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}):\n${output}`));
    });
  });
  return { child, ready, log: () => output };
}

let server, browser, data, base, setupUrl;

before(async () => {
  mkdirSync(out, { recursive: true });
  data = mkdtempSync(join(tmpdir(), 'kairos-e2e-'));
  server = startServer(data);
  ({ base, setupUrl } = await server.ready);
  browser = await chromium.launch({ executablePath: browserPath, headless: true, args: ['--no-sandbox'] });
});

after(async () => {
  await browser?.close();
  if (server && server.child.exitCode === null) {
    const exited = new Promise((r) => server.child.once('exit', r));
    server.child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000).unref())]);
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
  }
  if (data) rmSync(data, { recursive: true, force: true });
});

async function apiCall(method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${adminKey}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

test('setup in the console, jobs appear live, cancel from the job page', { timeout: 120_000 }, async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(15_000);
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));

  // First run: the printed link, the form, and the dashboard signed in.
  await page.goto(setupUrl);
  await page.getByLabel('Organization').fill('Acme E2E');
  await page.getByLabel('Email').fill('owner@example.com');
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Create owner and sign in' }).click();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/');
  await page.getByTestId('organization-name').filter({ hasText: 'Acme E2E' }).waitFor();
  await page.locator('[data-live="connected"]').waitFor();
  await page.getByTestId('system-version').waitFor();
  await page.screenshot({ path: join(out, 'dashboard-light.png'), fullPage: true });

  // The jobs page, empty; then jobs enqueued through the API show up without a reload.
  await page.getByRole('link', { name: 'Jobs' }).click();
  await page.getByText('No jobs match these filters.').waitFor();
  await page.evaluate(() => { window.__kairosNoReload = true; });
  const ids = [];
  for (let i = 0; i < 3; i++) {
    const job = await apiCall('POST', '/api/v1/jobs', { queue: 'e2e', type: 'report.build', payload: { n: i } });
    ids.push(job.id);
  }
  for (const id of ids) await page.locator(`tr[data-job-id="${id}"]`).waitFor();
  assert.equal(await page.evaluate(() => window.__kairosNoReload), true, 'the jobs page was reloaded');
  await page.screenshot({ path: join(out, 'jobs-light.png'), fullPage: true });

  // Open one and cancel it through the confirm dialog.
  const target = ids[1];
  await page.getByRole('link', { name: `Open job ${target}` }).click();
  await page.getByRole('heading', { name: /report\.build/ }).waitFor();
  await page.getByLabel('Payload').filter({ hasText: '"n": 1' }).waitFor();
  await page.getByRole('button', { name: 'Cancel', exact: true }).click();
  await page.getByRole('dialog').waitFor();
  await page.getByRole('button', { name: 'Cancel job' }).click();
  await page.locator('[data-state="cancelled"]').waitFor();
  assert.equal((await apiCall('GET', `/api/v1/jobs/${target}`)).state, 'cancelled');

  // Dark theme, kept across a reload.
  await page.getByRole('button', { name: 'Switch to dark theme' }).click();
  await page.reload();
  await page.locator('html.dark').waitFor({ state: 'attached' });
  await page.locator('[data-state="cancelled"]').waitFor();
  await page.screenshot({ path: join(out, 'job-dark.png'), fullPage: true });

  // The list shows the cancellation too (state filter in the address).
  await page.goto(`${base}/jobs?state=cancelled`);
  await page.locator(`tr[data-job-id="${target}"]`).waitFor();
  assert.equal(await page.locator('tr[data-job-id]').count(), 1);

  assert.deepEqual(problems, []);
  await page.close();
});
