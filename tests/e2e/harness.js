// What the end-to-end tests share: a real Kairos server started on a temp data folder and a free port, Debian's
// chromium (playwright-core, no browser download), the API called with an admin key, a worker on the HTTP protocol,
// and screenshots in both themes. Needs a built server (dotnet build or dotnet test first). Screenshots go to
// $KAIROS_E2E_OUT (default: TestResults/e2e under the repository).
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const out = process.env.KAIROS_E2E_OUT ?? join(repo, 'TestResults', 'e2e');
export const adminKey = 'kx_e2e_admin_5b7c1d9e2f3a4b6c8d0e';
export const browserPath = process.env.KAIROS_E2E_CHROMIUM ?? '/usr/bin/chromium';

/** The built CLI (kairos.dll), Debug or Release, whichever was built last. */
function serverDll() {
  const candidates = ['Debug', 'Release'].map((c) => join(repo, 'src/Kairos.Cli/bin', c, 'net10.0/kairos.dll')).filter(existsSync);
  assert.ok(candidates.length > 0, 'no built server: run `dotnet build` (or `dotnet test`) first');
  return candidates[0];
}

/** Starts the server on a free port and resolves with its address and the printed setup link. */
export function startServer(data) {
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

/**
 * A server and a browser for the tests of one file: started before its first test, stopped after its last. The
 * answer's fields (base, setupUrl, browser) are there once the tests run; `api` calls the API with the admin key.
 */
export function useServer() {
  const ctx = {
    base: '', setupUrl: '', browser: null,
    /** Calls the API (with the admin key unless another is given), failing the test on an answer that is not 2xx. */
    async api(method, path, body, key = adminKey) {
      const res = await fetch(ctx.base + path, {
        method,
        headers: { Authorization: `Bearer ${key}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
      return text ? JSON.parse(text) : null;
    },
  };
  let server, data;
  before(async () => {
    mkdirSync(out, { recursive: true });
    data = mkdtempSync(join(tmpdir(), 'kairos-e2e-'));
    server = startServer(data);
    ({ base: ctx.base, setupUrl: ctx.setupUrl } = await server.ready);
    ctx.browser = await chromium.launch({ executablePath: browserPath, headless: true, args: ['--no-sandbox'] });
  });
  after(async () => {
    await ctx.browser?.close();
    if (server && server.child.exitCode === null) {
      const exited = new Promise((r) => server.child.once('exit', r));
      server.child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000).unref())]);
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
    }
    if (data) rmSync(data, { recursive: true, force: true });
  });
  return ctx;
}

/** A worker that speaks the HTTP worker protocol with a worker-scoped key, driven step by step by the test. */
export async function startWorker(ctx, key, queue) {
  const { id } = await ctx.api('POST', '/api/v1/workers', { name: 'e2e-worker', host: 'e2e-host', queues: [queue], capacity: 2, version: '1.0.0' }, key);
  return {
    id,
    /** Fetches the next job of the queue (long poll), failing the test when none comes. */
    async fetch() {
      const { jobs } = await ctx.api('POST', '/api/v1/fetch', { worker_id: id, queues: [queue], max: 1, wait_ms: 10_000 }, key);
      assert.equal(jobs.length, 1, 'the worker fetched no job');
      return jobs[0];
    },
    fail: (job, error) => ctx.api('POST', `/api/v1/jobs/${job.id}/fail`, { lease_token: job.lease_token, error, retryable: false }, key),
    ack: (job, result) => ctx.api('POST', `/api/v1/jobs/${job.id}/ack`, { lease_token: job.lease_token, result }, key),
  };
}

/**
 * First run: opens the printed setup link, creates the organization and its owner, and waits for the dashboard signed
 * in. `onForm` runs once the form is shown (a screenshot of it, say).
 */
export async function setUpOwner(page, ctx, organization, { email = 'owner@example.com', password = 'correct horse battery', onForm } = {}) {
  await page.goto(ctx.setupUrl);
  await onForm?.();
  await page.getByLabel('Organization').fill(organization);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create owner and sign in' }).click();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
}

/** Follows a link of the main navigation (pages have other links of the same name, e.g. back links). */
export function nav(page, name) {
  return page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();
}

/** Saves the page as it is in both themes (the class the theme toggle sets), then puts the theme back. */
export async function shoot(page, name) {
  const wasDark = await page.evaluate(() => document.documentElement.classList.contains('dark'));
  for (const theme of ['light', 'dark']) {
    await page.evaluate((dark) => document.documentElement.classList.toggle('dark', dark), theme === 'dark');
    // Two frames: what follows the class in script (the graph's colour mode) has drawn itself.
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    await page.screenshot({ path: join(out, `${name}-${theme}.png`), fullPage: true, animations: 'disabled' });
  }
  await page.evaluate((dark) => document.documentElement.classList.toggle('dark', dark), wasDark);
}

/**
 * Collects what went wrong in a page: script errors, console errors (but the browser's own line for a failed load,
 * which answers provoked on purpose cause) and server errors. The test asserts the list is empty at its end.
 */
export function watchProblems(page) {
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && problems.push(`console: ${m.text()}`));
  page.on('response', (r) => r.status() >= 500 && problems.push(`${r.status()} from ${r.url()}`));
  return problems;
}
