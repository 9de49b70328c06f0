// The BullMQ peer of the Kairos benchmark harness (bench/Kairos.Bench starts it; see bench/README.md).
//
//   node bench.mjs enqueue --port P --clients 64 --warmup S --duration S   -> "result {rate,p50,p99,n}"
//   node bench.mjs seed    --port P --jobs N                               -> "result {n,seconds}"
//   node bench.mjs worker  --port P --concurrency 50 [--latency-out FILE]  -> line protocol: ready / go / done N / stop / final N
//   node bench.mjs produce --port P --rate R --warmup S --duration S       -> "result {sent}"; jobs carry t (monotonic ns)
//
// Redis is the harness's own redis-server (appendonly yes, appendfsync everysec). Completed jobs are kept (the BullMQ
// default), as Kairos keeps finished jobs.
import { Queue, Worker } from 'bullmq';
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const args = Object.fromEntries(
  process.argv.slice(3).reduce((acc, v, i, a) => (i % 2 === 0 ? [...acc, [v.replace(/^--/, ''), a[i + 1]]] : acc), []),
);
const mode = process.argv[2];
const connection = { host: '127.0.0.1', port: Number(args.port), maxRetriesPerRequest: null };
const QUEUE = 'bench';
const now = () => process.hrtime.bigint();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function enqueue() {
  const queue = new Queue(QUEUE, { connection });
  await queue.waitUntilReady();
  const clients = Number(args.clients ?? 64);
  let measuring = false;
  let stop = false;
  let count = 0;
  const samples = [];
  const loops = Array.from({ length: clients }, async () => {
    while (!stop) {
      const start = now();
      await queue.add('noop', {});
      if (measuring && !stop) {
        samples.push(Number(now() - start) / 1e6);
        count++;
      }
    }
  });
  await sleep(Number(args.warmup) * 1000);
  const t0 = now();
  measuring = true;
  await sleep(Number(args.duration) * 1000);
  measuring = false;
  const seconds = Number(now() - t0) / 1e9;
  stop = true;
  await Promise.all(loops);
  samples.sort((a, b) => a - b);
  console.log('result ' + JSON.stringify({ rate: count / seconds, p50: percentile(samples, 50), p99: percentile(samples, 99), n: count }));
  await queue.close();
}

async function seed() {
  const queue = new Queue(QUEUE, { connection });
  const n = Number(args.jobs);
  const t0 = now();
  for (let i = 0; i < n; i += 1000) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 1000); j++) batch.push({ name: 'noop', data: { n: j } });
    await queue.addBulk(batch);
  }
  console.log('result ' + JSON.stringify({ n, seconds: Number(now() - t0) / 1e9 }));
  await queue.close();
}

async function worker() {
  const samples = [];
  let done = 0;
  const w = new Worker(
    QUEUE,
    async (job) => {
      if (job.data.t) samples.push(Math.round(Number(now() - BigInt(job.data.t)) / 1000));
    },
    { connection, concurrency: Number(args.concurrency ?? 50), autorun: false },
  );
  w.on('completed', () => done++);
  w.on('error', (e) => console.error(String(e)));
  await w.waitUntilReady();
  console.log('ready');
  let last = -1;
  const report = setInterval(() => {
    if (done !== last) {
      console.log(`done ${done}`);
      last = done;
    }
  }, 20);
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (line === 'go') w.run();
    if (line === 'stop') break;
  }
  clearInterval(report);
  await w.close(true);
  if (args['latency-out']) writeFileSync(args['latency-out'], samples.join('\n'));
  console.log(`final ${done}`);
  process.exit(0);
}

async function produce() {
  const queue = new Queue(QUEUE, { connection });
  await queue.waitUntilReady();
  const rate = Number(args.rate);
  async function steady(seconds, stamp) {
    const interval = 1e9 / rate;
    const start = now();
    const end = start + BigInt(Math.round(seconds * 1e9));
    let sent = 0;
    const inflight = [];
    while (now() < end) {
      const due = Math.floor(Number(now() - start) / interval) + 1;
      while (sent < due) {
        const intended = start + BigInt(Math.round(sent * interval));
        sent++;
        inflight.push(queue.add('noop', stamp ? { t: intended.toString() } : {}));
      }
      const next = start + BigInt(Math.round(sent * interval));
      const waitMs = Number(next - now()) / 1e6;
      if (waitMs > 2) await sleep(waitMs - 1);
      else await new Promise((r) => setImmediate(r));
    }
    await Promise.all(inflight);
    return sent;
  }
  await steady(Number(args.warmup), false);
  const sent = await steady(Number(args.duration), true);
  console.log('result ' + JSON.stringify({ sent }));
  await queue.close();
}

const modes = { enqueue, seed, worker, produce };
if (!modes[mode]) {
  console.error(`unknown mode ${mode}; one of ${Object.keys(modes).join(', ')}`);
  process.exit(2);
}
await modes[mode]();
process.exit(0);
