import { describe, expect, it } from 'vitest';
import { channelConfigFrom, describeRule, emptyRuleForm, ruleRequestFrom, type AlertRule } from './alertForm';

const form = () => ({ ...emptyRuleForm(), name: 'mail-failures', channels: ['ops-slack'] });

describe('the alert rule form', () => {
  it('sends only the fields of its kind, windows and cool-down in ms', () => {
    expect(ruleRequestFrom({ ...form(), queue: 'emails', threshold: '3', window_minutes: '10', max_age_minutes: '5' }).body).toEqual({
      name: 'mail-failures', kind: 'job_failed', queue: 'emails', type: null, threshold: 3, window_ms: 600_000, rate_percent: null, min_jobs: null,
      max_age_ms: null, monitor_states: null, monitor: null, schedule: null, channels: ['ops-slack'], cooldown_ms: 900_000, enabled: true,
    });
    expect(ruleRequestFrom({ ...form(), kind: 'monitor', monitor: 'backup', monitor_states: 'late,down' }).body)
      .toMatchObject({ kind: 'monitor', monitor: 'backup', monitor_states: ['late', 'down'], queue: null, window_ms: null });
  });

  it('names what is wrong for the kind', () => {
    expect(Object.keys(ruleRequestFrom({ ...form(), name: '', kind: 'failure_rate', rate_percent: '150' }).errors ?? {}).sort()).toEqual(['name', 'rate_percent']);
    expect(ruleRequestFrom({ ...form(), kind: 'queue_backlog' }).errors).toEqual({ threshold: ['give a depth, an oldest age, or both'] });
    expect(ruleRequestFrom({ ...form(), cooldown_minutes: '-1' }).errors).toEqual({ cooldown_ms: ['must be a positive number of minutes'] });
  });

  it('describes a rule in a line', () => {
    const r = { kind: 'job_failed', threshold: 3, window_ms: 300_000, queue: 'emails', type: null, monitor_states: [] } as unknown as AlertRule;
    expect(describeRule(r)).toBe('3 failures in 5 min · queue emails');
    expect(describeRule({ ...r, kind: 'monitor', monitor: null, monitor_states: ['down'] })).toBe('down · every monitor');
  });

  it('makes a channel config of only its kind\'s fields', () => {
    expect(channelConfigFrom('email', { host: 'smtp.example.com', port: '587', to: 'a@x.io, b@x.io', password: '' }))
      .toEqual({ host: 'smtp.example.com', port: 587, tls: null, username: null, password: null, from: null, to: ['a@x.io', 'b@x.io'] });
    expect(channelConfigFrom('pagerduty', { routing_key: 'R0', url: 'ignored' })).toEqual({ routing_key: 'R0', severity: null });
  });
});
