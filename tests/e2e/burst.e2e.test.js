// A burst of live events: thousands of jobs enqueued at once through the bulk API while the console is open. The page
// keeps answering (navigation takes effect during the burst), the live indicator stays connected, and the dashboard's
// counts converge to the API's. Every wait is on a condition.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nav, setUpOwner, shoot, useServer, watchProblems } from './harness.js';

const ctx = useServer();

test('a burst of 5,000 enqueues: the page stays responsive and live, and its counts converge', { timeout: 180_000 }, async () => {
  const page = await ctx.browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(30_000);
  const problems = watchProblems(page);
  await setUpOwner(page, ctx, 'Burst');
  await page.locator('[data-live=connected]').waitFor();

  // Five bulk requests of 1,000 jobs each, all at once: 5,000 job events pushed over the socket.
  const burst = Promise.all(Array.from({ length: 5 }, (_, b) => ctx.api('POST', '/api/v1/jobs/bulk', {
    jobs: Array.from({ length: 1000 }, (_, i) => ({ queue: `burst-${b % 2}`, type: 'burst.item', payload: { b, i } })),
  })));
  // Meanwhile the page answers clicks.
  await nav(page, 'Queues');
  await page.getByRole('heading', { name: 'Queues' }).waitFor();
  await nav(page, 'Dashboard');
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  const created = await burst;
  assert.equal(created.reduce((n, r) => n + r.ids.length, 0), 5000);

  // The counts converge to the API's, and the socket is still up.
  const stats = await ctx.api('GET', '/api/v1/stats');
  assert.equal(stats.counts.queued, 5000);
  await page.waitForFunction(
    (want) => (document.querySelector('[data-testid=kpi-queued]')?.textContent ?? '').replace(/\D/g, '') === String(want),
    stats.counts.queued,
  );
  await page.locator('[data-live=connected]').waitFor();
  await page.locator('div[role=img] canvas').nth(2).waitFor();
  await shoot(page, 'dashboard-after-burst');
  await nav(page, 'Queues');
  await page.getByRole('link', { name: 'burst-0' }).first().waitFor();
  await shoot(page, 'queues-after-burst');
  // The pages the walks do not shoot at phone width.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByRole('link', { name: 'burst-0' }).first().waitFor();
  await shoot(page, 'phone-queues');
  await nav(page, 'Workers');
  await page.getByRole('heading', { name: 'Workers' }).waitFor();
  await shoot(page, 'phone-workers');
  assert.deepEqual(problems, []);
});
