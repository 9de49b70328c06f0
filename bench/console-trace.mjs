// Where a cold load of the dashboard spends the browser's main thread: a Chrome trace (DevTools protocol, browser-wide)
// of each run, from navigation to the dashboard shown (the condition of console-load.mjs). Prints per run the main
// thread's CPU time (thread time of its top-level tasks), its wall time by kind of work (self time of the trace's
// events), the sampled JavaScript by chunk and by what it was doing (ECharts, ICU), and the request waterfall. Usage:
// node bench/console-trace.mjs [runs=3] [jobs=2000] [save-dir] (save-dir keeps each trace's JSON for DevTools), or
// node bench/console-trace.mjs --analyse TRACE.json... for saved traces.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dashboardShown, machineSettled, withSeededConsole } from './console-seeded.mjs';

const runs = Number(process.argv[2] ?? 3);
const jobs = Number(process.argv[3] ?? 2000);
const saveDir = process.argv[4];
const categories = ['-*', 'toplevel', 'devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'v8.execute', 'blink', 'blink.user_timing', 'loading',
  'disabled-by-default-v8.cpu_profiler', '__metadata'].join(',');

async function traceLoad(browser, base, session) {
  const cdp = await browser.newBrowserCDPSession();
  const context = await browser.newContext({ storageState: session, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await machineSettled();
  await cdp.send('Tracing.start', { traceConfig: { includedCategories: categories.split(',').filter((c) => !c.startsWith('-')), excludedCategories: ['*'] }, transferMode: 'ReturnAsStream' });
  const started = Date.now();
  await page.goto(`${base}/`);
  await dashboardShown(page);
  const wall = Date.now() - started;
  // The renderer's CPU over all its threads (main, compilers, GC helpers) since it started, from its own metrics.
  const metrics = await context.newCDPSession(page);
  await metrics.send('Performance.enable');
  const processMs = (await metrics.send('Performance.getMetrics')).metrics.find((m) => m.name === 'ProcessTime').value * 1000;
  const done = new Promise((r) => cdp.once('Tracing.tracingComplete', r));
  await cdp.send('Tracing.end');
  const { stream } = await done;
  let text = '';
  for (;;) {
    const chunk = await cdp.send('IO.read', { handle: stream, size: 1 << 20 });
    text += chunk.base64Encoded ? Buffer.from(chunk.data, 'base64').toString() : chunk.data;
    if (chunk.eof) break;
  }
  await cdp.send('IO.close', { handle: stream });
  await context.close();
  await cdp.detach();
  const parsed = JSON.parse(text);
  return { wall, processMs, events: Array.isArray(parsed) ? parsed : parsed.traceEvents, text };
}

const ms = (us) => `${Math.round(us / 1000)}`;
const chunkName = (url) => (url ? url.replace(/^.*\//, '').replace(/-[A-Za-z0-9_-]{8}\.(js|css)$/, '.$1') : '');

/** The renderer main thread that showed the dashboard: the one with the mark. */
function mainThread(events) {
  const mark = events.find((e) => e.name === 'kairos-dashboard-shown');
  if (!mark) throw new Error('no kairos-dashboard-shown mark in the trace');
  const names = new Map(events.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => [`${e.pid}:${e.tid}`, e.args.name]));
  const main = [...names].find(([k, n]) => n === 'CrRendererMain' && k.startsWith(`${mark.pid}:`));
  const [pid, tid] = main[0].split(':').map(Number);
  return { pid, tid, end: mark.ts };
}

function analyse(events) {
  const { pid, tid, end } = mainThread(events);
  const nav = events.find((e) => e.name === 'navigationStart' && e.pid === pid) ?? events.find((e) => e.name === 'ResourceSendRequest' && e.args?.data?.resourceType === 'Document');
  const start = nav?.ts ?? Math.min(...events.filter((e) => e.pid === pid && e.ts > 0).map((e) => e.ts));
  const onMain = events.filter((e) => e.pid === pid && e.tid === tid && e.ph === 'X' && e.ts + (e.dur ?? 0) >= start && e.ts <= end);
  const tasks = onMain.filter((e) => e.name === 'ThreadControllerImpl::RunTask' || e.name === 'RunTask');
  const clip = (e) => Math.max(0, Math.min(end, e.ts + e.dur) - Math.max(start, e.ts));
  let cpu = 0;
  for (const t of tasks) cpu += (t.tdur ?? t.dur) * (t.dur > 0 ? clip(t) / t.dur : 1);
  // Self time by event name (wall), events nested by containment.
  const sorted = onMain.filter((e) => e.dur !== undefined).sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  const self = new Map();
  const stack = [];
  const close = (upTo) => {
    while (stack.length && stack.at(-1).ts + stack.at(-1).dur <= upTo) stack.pop();
  };
  for (const e of sorted) {
    close(e.ts);
    const parent = stack.at(-1);
    if (parent) self.set(parent.name, (self.get(parent.name) ?? 0) - clip(e));
    self.set(e.name, (self.get(e.name) ?? 0) + clip(e));
    stack.push(e);
  }
  // The sampled CPU profile of the main thread: self time by chunk, and time with ECharts or ICU on the stack.
  const nodes = new Map();
  const samples = [];
  const profiles = new Map(events.filter((e) => e.name === 'Profile' && e.pid === pid).map((e) => [e.id, e.args.data.startTime]));
  const times = new Map(profiles);
  for (const e of events.filter((x) => x.name === 'ProfileChunk' && x.pid === pid && profiles.has(x.id))) {
    const data = e.args.data;
    for (const n of data.cpuProfile?.nodes ?? []) nodes.set(n.id, n);
    let t = times.get(e.id);
    (data.cpuProfile?.samples ?? []).forEach((s, i) => {
      t += data.timeDeltas[i];
      samples.push({ node: s, t });
    });
    times.set(e.id, t);
  }
  samples.sort((a, b) => a.t - b.t);
  const byChunk = new Map();
  const on = { echarts: 0, intl: 0, react: 0 };
  for (let i = 0; i + 1 < samples.length; i++) {
    const { node, t } = samples[i];
    if (t < start || t > end) continue;
    const w = Math.min(samples[i + 1].t - t, 20_000);
    let n = nodes.get(node);
    const leaf = n?.callFrame ?? {};
    if (leaf.functionName === '(idle)') continue;
    const key = leaf.url ? chunkName(leaf.url) : leaf.functionName || '(native)';
    byChunk.set(key, (byChunk.get(key) ?? 0) + w);
    const seen = new Set();
    for (; n; n = nodes.get(n.parent)) {
      const f = n.callFrame;
      if (f.url?.includes('/echarts-')) seen.add('echarts');
      if (/NumberFormat|DateTimeFormat|toLocale|Intl|RelativeTimeFormat/.test(f.functionName)) seen.add('intl');
      if (/^(performWorkUntilDeadline|performWorkOnRoot|renderRootSync|commitRoot)/.test(f.functionName)) seen.add('react');
    }
    for (const s of seen) on[s] += w;
  }
  // Requests: sent, response, finished, relative to navigation.
  const requests = new Map();
  for (const e of events.filter((x) => x.args?.data?.requestId)) {
    const d = e.args.data;
    const r = requests.get(d.requestId) ?? {};
    if (e.name === 'ResourceSendRequest') Object.assign(r, { url: d.url, sent: e.ts });
    if (e.name === 'ResourceReceiveResponse') r.response = e.ts;
    if (e.name === 'ResourceFinish') r.finished = e.ts;
    requests.set(d.requestId, r);
  }
  const waterfall = [...requests.values()].filter((r) => r.url?.startsWith('http') && r.sent >= start).sort((a, b) => a.sent - b.sent)
    .map((r) => ({ url: r.url.replace(/^https?:\/\/[^/]+/, ''), sent: (r.sent - start) / 1000, done: ((r.finished ?? r.response ?? r.sent) - start) / 1000 }));
  // The long tasks (over 20 ms), with what ran in them: scripts (by chunk), functions called, layout, paint.
  const long = tasks.filter((t) => t.dur > 20_000).map((t) => {
    const inside = onMain.filter((e) => e !== t && e.ts >= t.ts && e.ts + (e.dur ?? 0) <= t.ts + t.dur);
    const what = new Map();
    for (const e of inside) {
      const url = e.args?.data?.url ?? e.args?.data?.stackTrace?.[0]?.url ?? e.args?.fileName;
      const key = ['EvaluateScript', 'v8.compileModule', 'v8.evaluateModule', 'FunctionCall', 'TimerFire', 'FireAnimationFrame', 'XHRReadyStateChange'].includes(e.name) && url ? `${e.name}(${chunkName(url)})`
        : ['Layout', 'LocalFrameView::performLayout', 'UpdateLayoutTree', 'Document::recalcStyle', 'Paint', 'MinorGC', 'MajorGC', 'V8.GC_SCAVENGER', 'ParseHTML', 'RunMicrotasks', 'ParseAuthorStyleSheet'].includes(e.name) ? e.name : null;
      if (key && !inside.some((o) => o !== e && o.name === e.name && o.ts <= e.ts && o.ts + o.dur >= e.ts + e.dur && o !== e && !(o.ts === e.ts && o.dur === e.dur))) what.set(key, (what.get(key) ?? 0) + e.dur);
    }
    return { at: (t.ts - start) / 1000, dur: t.dur / 1000, cpu: (t.tdur ?? t.dur) / 1000, what: [...what].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, v]) => `${k} ${ms(v)}`).join(', ') };
  });
  return { long, cpu: cpu / 1000, shown: (end - start) / 1000, self, byChunk, on, waterfall };
}

function report(label, a) {
  const top = (m, n) => [...m].filter(([, v]) => v > 2000).sort((x, y) => y[1] - x[1]).slice(0, n).map(([k, v]) => `${k} ${ms(v)}`).join(', ');
  console.log(`${label}: main-thread CPU ${Math.round(a.cpu)} ms; shown ${Math.round(a.shown)} ms after navigation`);
  console.log(`  main thread by event (self, ms): ${top(a.self, 14)}`);
  console.log(`  JS samples by chunk (self, ms): ${top(a.byChunk, 10)}`);
  console.log(`  on the stack (ms): ECharts ${ms(a.on.echarts)}, Intl ${ms(a.on.intl)}`);
  console.log(`  long tasks (ms after navigation, wall/cpu ms):\n${a.long.map((t) => `    ${t.at.toFixed(0).padStart(5)} ${t.dur.toFixed(0).padStart(4)}/${t.cpu.toFixed(0).padStart(4)}  ${t.what}`).join('\n')}`);
  console.log(`  requests (ms after navigation, sent → done):\n${a.waterfall.map((r) => `    ${r.sent.toFixed(0).padStart(5)} → ${r.done.toFixed(0).padStart(5)}  ${r.url}`).join('\n')}`);
}

const summary = (cpus, what = 'main-thread CPU') => {
  const sorted = [...cpus].sort((x, y) => x - y);
  console.log(`${what} per cold load over ${cpus.length} runs: median ${Math.round(sorted[Math.floor((cpus.length - 1) / 2)])} ms, min ${Math.round(sorted[0])}, max ${Math.round(sorted.at(-1))}`);
};

if (process.argv[2] === '--analyse') {
  // Saved traces: node bench/console-trace.mjs --analyse FILE...
  const cpus = process.argv.slice(3).map((file) => {
    const parsed = JSON.parse(readFileSync(file, 'utf8'));
    const a = analyse(Array.isArray(parsed) ? parsed : parsed.traceEvents);
    report(file, a);
    return a.cpu;
  });
  summary(cpus);
} else {
  await withSeededConsole(jobs, async ({ browser, base, session }) => {
    await traceLoad(browser, base, session); // warms the server, not the browser
    const cpus = [];
    const processes = [];
    for (let i = 0; i < runs; i++) {
      const { wall, processMs, events, text } = await traceLoad(browser, base, session);
      if (saveDir) writeFileSync(join(saveDir, `dashboard-load-${i + 1}.json`), text);
      const a = analyse(events);
      cpus.push(a.cpu);
      processes.push(processMs);
      report(`run ${i + 1} (${wall} ms by the script's clock; the renderer's CPU, all threads: ${Math.round(processMs)} ms)`, a);
    }
    summary(cpus, 'main-thread CPU');
    summary(processes, 'renderer CPU (all threads)');
  });
}
