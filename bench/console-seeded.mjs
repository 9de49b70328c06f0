// What the console's load benchmarks share: a real server (the built CLI, as the e2e tests start it) on a temp folder,
// set up and seeded through the API, Debian's chromium through playwright-core (`npm ci --prefix tests/e2e`), one
// sign-in whose session every cold browser context reuses, and the condition that says the dashboard is shown.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminKey, browserPath, startServer } from '../tests/e2e/harness.js';
import { chromium } from '../tests/e2e/node_modules/playwright-core/index.mjs';

const email = 'bench@example.com';
const password = 'correct horse battery';

async function api(base, method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${adminKey}`, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function seed(base, jobs) {
  const queues = ['default', 'mail', 'reports', 'billing'];
  for (let i = 0; i < jobs; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, jobs - i) }, (_, k) =>
      api(base, 'POST', '/api/v1/jobs', { queue: queues[(i + k) % 4], type: `bench.${(i + k) % 7}`, payload: { n: i + k } })));
  }
  // Some finished work for the charts: a worker takes and acks (or fails) a quarter of them.
  const { id } = await api(base, 'POST', '/api/v1/workers', { name: 'bench', queues, capacity: 100 });
  for (let done = 0; done < jobs / 4;) {
    const { jobs: leased } = await api(base, 'POST', '/api/v1/fetch', { worker_id: id, queues, max: 100, wait_ms: 1000 });
    if (leased.length === 0) break;
    await Promise.all(leased.map((j, k) => k % 10 === 0
      ? api(base, 'POST', `/api/v1/jobs/${j.id}/fail`, { lease_token: j.lease_token, error: { message: 'bench' }, retryable: false })
      : api(base, 'POST', `/api/v1/jobs/${j.id}/ack`, { lease_token: j.lease_token })));
    done += leased.length;
  }
}

/** One sign-in (logins are rate-limited), its session cookie reused by every run's fresh context. */
async function signIn(browser, base) {
  const context = await browser.newContext();
  const login = await context.request.post(`${base}/api/v1/auth/login`, { data: { email, password } });
  if (!login.ok()) throw new Error(`login: ${login.status()}`);
  const state = await context.storageState();
  await context.close();
  return state;
}

/**
 * Waits until the dashboard is shown: every chart has drawn its canvas and the KPI numbers are there. Marks that moment
 * on the page's timeline (`performance.mark('kairos-dashboard-shown')`, seen in a trace).
 */
export function dashboardShown(page) {
  return page.waitForFunction(() => {
    const charts = [...document.querySelectorAll('div[role=img]')];
    const queued = document.querySelector('[data-testid=kpi-queued]')?.textContent ?? '';
    const shown = charts.length >= 2 && charts.every((c) => c.querySelector('canvas')) && /\d/.test(queued);
    if (shown) performance.mark('kairos-dashboard-shown');
    return shown;
  }, null, { timeout: 30_000, polling: 'raf' });
}

/** The machine's busy CPU time so far (all cores, ms), from /proc/stat: user, nice, system, irq and softirq. */
function busyMs() {
  const [user, nice, system, , , irq, softirq] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq) * 10; // USER_HZ is 100 on Linux
}

/**
 * Waits until the machine is quiet: a new browser context opens a window, and headless Chromium builds that window's
 * own UI (its omnibox popup, a WebUI page in a renderer of its own: ~0.7 s of CPU) in the first second. A user's
 * browser has its window before they navigate, so each run navigates once the machine has used under a tenth of a core
 * over 200 ms (at most 5 s): the load measured is the console's, not the window's set-up on the same two cores.
 */
export async function machineSettled() {
  const until = Date.now() + 5_000;
  let before = busyMs();
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 200));
    const now = busyMs();
    if (now - before < 20) return;
    before = now;
  }
}

/** Runs `body({ browser, base, session })` against a fresh seeded server and browser, then stops and removes both. */
export async function withSeededConsole(jobs, body) {
  const data = mkdtempSync(join(tmpdir(), 'kairos-console-load-'));
  const server = startServer(data);
  let browser;
  try {
    const { base, setupUrl } = await server.ready;
    const token = new URL(setupUrl).searchParams.get('token');
    const setup = await fetch(`${base}/api/v1/setup`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token, email, password, organization: 'Bench' }) });
    if (!setup.ok) throw new Error(`setup: ${setup.status} ${await setup.text()}`);
    await seed(base, jobs);
    browser = await chromium.launch({ executablePath: browserPath, headless: true, args: ['--no-sandbox'] });
    const session = await signIn(browser, base);
    await body({ browser, base, session });
  } finally {
    await browser?.close();
    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.once('exit', r));
    rmSync(data, { recursive: true, force: true });
  }
}
