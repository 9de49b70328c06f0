// The console's first load: a real server (the built CLI, as the e2e tests start it) on a temp folder with a seeded
// store, Debian's chromium through playwright-core (installed by `npm ci --prefix tests/e2e`). Each run opens the
// dashboard in a fresh browser context (cold cache, signed in) and times navigation start to the dashboard's charts
// drawn and its KPI numbers shown; bytes are what crossed the wire (headers and encoded bodies, from the DevTools
// protocol). Runs with the browser's own Accept-Encoding, then with `identity` forced (what an uncompressed server
// sends). Usage: node bench/console-load.mjs [runs=20] [jobs=2000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminKey, browserPath, startServer } from '../tests/e2e/harness.js';
import { chromium } from '../tests/e2e/node_modules/playwright-core/index.mjs';

const runs = Number(process.argv[2] ?? 20);
const jobs = Number(process.argv[3] ?? 2000);
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

async function seed(base) {
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

async function firstLoad(browser, base, storageState, encoding) {
  const context = await browser.newContext({ storageState, viewport: { width: 1280, height: 800 }, ...(encoding ? { extraHTTPHeaders: { 'Accept-Encoding': encoding } } : {}) });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  let bytes = 0;
  const encodings = new Set();
  cdp.on('Network.loadingFinished', (e) => { bytes += e.encodedDataLength; });
  cdp.on('Network.responseReceived', (e) => {
    if (e.response.url.includes('/assets/')) encodings.add(e.response.headers['content-encoding'] ?? e.response.headers['Content-Encoding'] ?? 'identity');
  });
  const started = Date.now();
  await page.goto(`${base}/`);
  await page.waitForFunction(() => {
    const charts = [...document.querySelectorAll('div[role=img]')];
    const queued = document.querySelector('[data-testid=kpi-queued]')?.textContent ?? '';
    return charts.length >= 2 && charts.every((c) => c.querySelector('canvas')) && /\d/.test(queued);
  }, null, { timeout: 30_000, polling: 'raf' });
  const ms = Date.now() - started;
  await context.close();
  return { ms, bytes, encodings: [...encodings].join(',') };
}

const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];

const data = mkdtempSync(join(tmpdir(), 'kairos-console-load-'));
const server = startServer(data);
let browser;
try {
  const { base, setupUrl } = await server.ready;
  const token = new URL(setupUrl).searchParams.get('token');
  const setup = await fetch(`${base}/api/v1/setup`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token, email, password, organization: 'Bench' }) });
  if (!setup.ok) throw new Error(`setup: ${setup.status} ${await setup.text()}`);
  await seed(base);
  browser = await chromium.launch({ executablePath: browserPath, headless: true, args: ['--no-sandbox'] });
  const session = await signIn(browser, base);
  await firstLoad(browser, base, session); // warms the server (JIT, SQLite pages), not the browser: every measured run is cold
  for (const encoding of [undefined, 'identity']) {
    const results = [];
    for (let i = 0; i < runs; i++) results.push(await firstLoad(browser, base, session, encoding));
    const ms = results.map((r) => r.ms);
    const kb = results.map((r) => r.bytes / 1024);
    console.log(`${encoding ?? 'browser default'} (assets sent as ${results[0].encodings}): ${runs} cold loads, ${jobs} jobs in the store: `
      + `median ${pct(ms, 50)} ms, p95 ${pct(ms, 95)} ms, max ${Math.max(...ms)} ms; transferred median ${pct(kb, 50).toFixed(0)} KiB`);
  }
} finally {
  await browser?.close();
  server.child.kill('SIGTERM');
  await new Promise((r) => server.child.once('exit', r));
  rmSync(data, { recursive: true, force: true });
}
