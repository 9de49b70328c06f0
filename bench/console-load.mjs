// The console's first load: a real server (the built CLI, as the e2e tests start it) on a temp folder with a seeded
// store, Debian's chromium through playwright-core (installed by `npm ci --prefix tests/e2e`). Each run opens the
// dashboard in a fresh browser context (cold cache, signed in), once the new window has finished setting itself up
// (machineSettled), and times navigation start to the dashboard's charts drawn and its KPI numbers shown; bytes are what crossed the wire (headers and encoded bodies, from the DevTools
// protocol). Runs with the browser's own Accept-Encoding, then with `identity` forced (what an uncompressed server
// sends). Usage: node bench/console-load.mjs [runs=20] [jobs=2000]
import { dashboardShown, machineSettled, withSeededConsole } from './console-seeded.mjs';

const runs = Number(process.argv[2] ?? 20);
const jobs = Number(process.argv[3] ?? 2000);

async function firstLoad(browser, base, storageState, encoding) {
  const context = await browser.newContext({ storageState, viewport: { width: 1280, height: 800 }, ...(encoding ? { extraHTTPHeaders: { 'Accept-Encoding': encoding } } : {}) });
  const page = await context.newPage();
  await machineSettled();
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
  await dashboardShown(page);
  const ms = Date.now() - started;
  await context.close();
  return { ms, bytes, encodings: [...encodings].join(',') };
}

const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];

await withSeededConsole(jobs, async ({ browser, base, session }) => {
  await firstLoad(browser, base, session); // warms the server (JIT, SQLite pages), not the browser: every measured run is cold
  for (const encoding of [undefined, 'identity']) {
    const results = [];
    for (let i = 0; i < runs; i++) results.push(await firstLoad(browser, base, session, encoding));
    const ms = results.map((r) => r.ms);
    const kb = results.map((r) => r.bytes / 1024);
    console.log(`${encoding ?? 'browser default'} (assets sent as ${results[0].encodings}): ${runs} cold loads, ${jobs} jobs in the store: `
      + `median ${pct(ms, 50)} ms, p95 ${pct(ms, 95)} ms, max ${Math.max(...ms)} ms; transferred median ${pct(kb, 50).toFixed(0)} KiB`);
  }
});
