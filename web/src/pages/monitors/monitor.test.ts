import { describe, expect, it } from 'vitest';
import { emptyMonitorForm, formFromMonitor, monitorPreviewQuery, monitorRequestFrom, splitSeconds, type Monitor, type MonitorRun } from './monitorForm';
import { crontabTiming, pingUrls, shellQuote, slugPingUrls, snippets } from './snippets';
import { sparklineBars, successRate } from './sparkline';

const form = () => ({ ...emptyMonitorForm(), name: 'nightly-backup', timezone: 'Europe/Berlin' });

const monitor = (over: Partial<Monitor> = {}) => ({
  id: '1', name: 'nightly-backup', slug: 'nightly-backup', period_seconds: null, cron: '30 2 * * *', timezone: 'Europe/Berlin', description: 'At 02:30',
  grace_seconds: 900, max_runtime_seconds: 7200, start_grace_seconds: 300, failure_threshold: 3, tags: ['backups', 'prod'], state: 'up', reason: 'ping',
  state_changed_at: null, paused: false, pause_reason: null, last_ping_at: null, last_start_at: null, last_finish_at: null, next_due_at: null,
  running_since: null, consecutive_failures: 0, ping_key: 'kp_abc', ping_url: 'https://kairos.example.com/ping/kp_abc', created_at: null, updated_at: null, ...over,
}) as Monitor;

const run = (id: number, outcome: string, duration_ms: number | null): MonitorRun => ({
  id, rid: null, outcome, started_at: null, finished_at: null, duration_ms, exit_code: outcome === 'fail' ? 1 : null, log: null, log_truncated: false,
  source_ip: null, user_agent: null, created_at: '2026-12-03T08:00:00.000Z',
});

describe('the monitor form', () => {
  it('makes a period monitor in seconds, grace in its unit, no cron and no start grace', () => {
    const r = monitorRequestFrom({ ...form(), period: '2', period_unit: 'hours', grace: '10', grace_unit: 'minutes', tags: 'a, b,, ', start_grace: '5' });
    expect(r.body).toEqual({
      name: 'nightly-backup', slug: null, period_seconds: 7200, cron: null, timezone: 'Europe/Berlin', grace_seconds: 600, max_runtime_seconds: null,
      start_grace_seconds: null, failure_threshold: 1, tags: ['a', 'b'], paused: null, pause_reason: null,
    });
  });

  it('makes a cron monitor with its zone and start grace, and asks the preview about the expression', () => {
    const f = { ...form(), kind: 'cron' as const, cron: ' 30 2 * * * ', start_grace: '1.5', start_grace_unit: 'minutes' as const, max_runtime: '2', max_runtime_unit: 'hours' as const };
    expect(monitorRequestFrom(f).body).toMatchObject({ period_seconds: null, cron: '30 2 * * *', start_grace_seconds: 90, max_runtime_seconds: 7200 });
    expect(monitorPreviewQuery(f)).toEqual({ cron: '30 2 * * *', timezone: 'Europe/Berlin' });
    expect(monitorPreviewQuery(form())).toBeNull();
  });

  it('names the wrong fields as the server does', () => {
    expect(Object.keys(monitorRequestFrom({ ...form(), name: ' ', period: '0', grace: 'x', failure_threshold: '0.5' }).errors ?? {}).sort())
      .toEqual(['failure_threshold', 'grace_seconds', 'name', 'period_seconds']);
    expect(Object.keys(monitorRequestFrom({ ...form(), period: '' }).errors ?? {})).toEqual(['period_seconds']);
    expect(Object.keys(monitorRequestFrom({ ...form(), kind: 'cron', cron: '' }).errors ?? {})).toEqual(['cron']);
  });

  it('reads a monitor back into the form, each duration in its biggest whole unit', () => {
    expect(formFromMonitor(monitor())).toMatchObject({
      kind: 'cron', cron: '30 2 * * *', grace: '15', grace_unit: 'minutes', max_runtime: '2', max_runtime_unit: 'hours', start_grace: '5', failure_threshold: '3', tags: 'backups, prod',
    });
    expect(formFromMonitor(monitor({ cron: null, period_seconds: 86_400, max_runtime_seconds: null }))).toMatchObject({ kind: 'period', period: '1', period_unit: 'days', max_runtime: '' });
    expect(splitSeconds(90)).toEqual({ value: '1.5', unit: 'minutes' });
  });
});

describe('ping snippets', () => {
  it('gives the four ping URLs', () => {
    expect(pingUrls('http://h/ping/k')).toEqual({ success: 'http://h/ping/k', start: 'http://h/ping/k/start', fail: 'http://h/ping/k/fail', exitCode: 'http://h/ping/k/{exit_code}' });
  });

  it('wraps the command in a crontab line at the monitor\'s cron, sending the output and the command\'s exit code', () => {
    const s = snippets(monitor())!;
    expect(s.crontab).toBe(
      'SHELL=/bin/bash\n30 2 * * * curl -fsS -m 10 --retry 5 -o /dev/null https://kairos.example.com/ping/kp_abc/start; ' +
        '/usr/local/bin/backup.sh 2>&1 | curl -fsS -m 10 --retry 5 -o /dev/null --data-binary @- https://kairos.example.com/ping/kp_abc/${PIPESTATUS[0]}',
    );
    expect(s.curl).toContain('curl -fsS -m 10 --retry 5 https://kairos.example.com/ping/kp_abc/fail');
    expect(s.curl).toContain('https://kairos.example.com/ping/kp_abc/$?');
    expect(s.cli).toBe('kairos exec --monitor nightly-backup -- /usr/local/bin/backup.sh');
  });

  it('turns a period into the nearest cron and quotes what the shell would read', () => {
    expect([3600, 7200, 86_400, 172_800, 60, 900, 90].map((p) => crontabTiming({ cron: null, period_seconds: p })))
      .toEqual(['0 * * * *', '0 */2 * * *', '0 0 * * *', '0 0 */2 * *', '* * * * *', '*/15 * * * *', '* * * * *']);
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(snippets(monitor({ name: 'db backup' }))!.cli).toBe(`kairos exec --monitor 'db backup' -- /usr/local/bin/backup.sh`);
    expect(snippets(monitor({ ping_url: null }))).toBeNull();
  });
});

describe('the sparkline', () => {
  it('draws the latest runs oldest first, height by duration with a floor, full height without one', () => {
    const runs = [run(5, 'success', 1000), run(4, 'fail', 100), run(3, 'success', null), run(2, 'running', null), run(1, 'timeout', 4000)];
    const bars = sparklineBars(runs, 4, (ms) => `${ms / 1000}s`);
    expect(bars.map((b) => [b.id, b.outcome, b.height])).toEqual([[2, 'running', 1], [3, 'success', 1], [4, 'fail', 0.2], [5, 'success', 1]]);
    expect(bars[2]!.title).toMatch(/^fail · 0.1s · exit 1 · /);
    expect(sparklineBars([], 10)).toEqual([]);
  });

  it('counts the success rate of finished runs only', () => {
    expect(successRate([run(1, 'success', 1), run(2, 'fail', 1), run(3, 'running', null), run(4, 'success', 1)])).toBeCloseTo(2 / 3);
    expect(successRate([run(1, 'running', null)])).toBeNull();
  });
});

describe('slug ping URLs', () => {
  it('put the slug after the organization key, the placeholder when none is given', () => {
    expect(slugPingUrls('https://k.example.com/ping/kp_org/', 'nightly-backup')).toMatchObject({
      success: 'https://k.example.com/ping/kp_org/nightly-backup', start: 'https://k.example.com/ping/kp_org/nightly-backup/start',
      fail: 'https://k.example.com/ping/kp_org/nightly-backup/fail', curl: 'curl -fsS -m 10 --retry 5 https://k.example.com/ping/kp_org/nightly-backup',
    });
    expect(slugPingUrls('https://k.example.com/ping/kp_org').exitCode).toBe('https://k.example.com/ping/kp_org/{slug}/{exit_code}');
    expect(slugPingUrls('http://h/ping/k', 'a b').success).toBe('http://h/ping/k/a%20b');
  });
});
