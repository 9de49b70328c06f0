import { describe, expect, it } from 'vitest';
import { axisCount, hasLonePoint, metricSeries, timeChart, total } from './charts';
import { renderHook } from '@testing-library/react';
import { describeEvent, recordActivity, useRecentActivity } from '@/live/activity';

const resp = {
  step: 'hour', from: '2026-11-23T00:00:00.000Z', to: '2026-11-23T02:00:00.000Z', queue: null,
  series: [
    { metric: 'succeeded', points: [{ time: '2026-11-23T00:00:00.000Z', value: 5 }, { time: '2026-11-23T01:00:00.000Z', value: 7 }] },
    { metric: 'failed', points: [{ time: '2026-11-23T00:00:00.000Z', value: 1 }, { time: '2026-11-23T01:00:00.000Z', value: null }] },
  ],
};

describe('dashboard charts', () => {
  it('sums a count series (KPIs over a day)', () => {
    expect(total(resp, 'succeeded')).toBe(12);
    expect(total(resp, 'failed')).toBe(1);
    expect(total(resp, 'enqueued')).toBeUndefined();
    expect(total(undefined, 'failed')).toBeUndefined();
  });

  it('draws one series per metric on a time axis, gaps where there is no value', () => {
    const option = timeChart(metricSeries(resp)) as { series: { name: string; color: string; data: unknown[][] }[] };
    expect(option.series.map((s) => [s.name, s.color])).toEqual([['succeeded', '#10b981'], ['failed', '#ef4444']]);
    expect(option.series[1]!.data).toEqual([['2026-11-23T00:00:00.000Z', 1], ['2026-11-23T01:00:00.000Z', null]]);
  });

  it('marks the points of a line that has a value with no neighbour, which a line alone would not show', () => {
    const at = (...values: (number | null)[]) => values.map((value, i) => ({ time: `2026-11-23T0${i}:00:00.000Z`, value }));
    expect(hasLonePoint(at(3))).toBe(true);
    expect(hasLonePoint(at(null, null, 4))).toBe(true);
    expect(hasLonePoint(at(1, 2, null, 5, null))).toBe(true);
    expect(hasLonePoint(at(1, 2, null, 5, 6))).toBe(false);
    expect(hasLonePoint(at(null, null))).toBe(false);
    const option = timeChart([{ name: 'mail', points: at(null, 2) }, { name: 'billing', points: at(1, 2) }]) as { series: { showSymbol: boolean }[] };
    expect(option.series.map((s) => s.showSymbol)).toEqual([true, false]);
  });

  it('labels counts on the axis in a few characters', () => {
    expect([0, 7, 950, 1000, 1500, 12_345, 999_999, 3_240_000, 2e9, -1500].map(axisCount)).toEqual(['0', '7', '950', '1k', '1.5k', '12.3k', '1M', '3.2M', '2B', '-1.5k']);
  });

  it('reads rates as percentages', () => {
    const option = timeChart([{ name: 'success_rate', points: [] }], { percent: true }) as { yAxis: { max: number }; series: { name: string }[] };
    expect(option.yAxis.max).toBe(1);
    expect(option.series[0]!.name).toBe('success rate');
  });
});

describe('the activity feed', () => {
  const ev = (type: string, data: Record<string, unknown>, id = '1') => ({ id, type, time: '2026-11-23T10:00:00.000Z', organization_id: 'o', data });

  it('says what happened in a line, with a link to it', () => {
    expect(describeEvent(ev('job.failed', { job_id: 'j1', type: 'email.send', queue: 'mail', error: { message: 'boom' } }))).toEqual({ text: 'email.send failed on mail: boom', href: '/jobs/j1' });
    expect(describeEvent(ev('queue.paused', { queue: 'mail', reason: 'deploy' }))).toEqual({ text: 'Queue mail paused: deploy', href: '/queues/mail' });
    expect(describeEvent(ev('schedule.fired', { schedule: 'nightly', job_id: 'j2' }))).toEqual({ text: 'Schedule nightly fired', href: '/schedules/nightly' });
    expect(describeEvent(ev('job.deleted', { job_id: 'j1', type: 't', queue: 'q' })).href).toBeUndefined();
  });

  it('keeps events newest first and leaves progress ticks out', () => {
    recordActivity([ev('job.enqueued', { job_id: 'a' }, 'e1'), ev('job.progress', { job_id: 'a' }, 'e2'), ev('job.started', { job_id: 'a' }, 'e3')]);
    const { result } = renderHook(() => useRecentActivity());
    expect(result.current.map((e) => e.id)).toEqual(['e3', 'e1']);
  });
});
