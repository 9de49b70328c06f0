import { describe, expect, it } from 'vitest';
import {
  channelConfigFrom, channelFieldsFrom, channelUpdateFrom, describeRule, emptyRuleForm, ruleFormFrom, ruleRequestFrom, windowRequestFrom, type AlertChannel, type AlertRule,
} from './alertForm';

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

  it('edits a stored rule: its form gives back the same request', () => {
    const stored = {
      id: '1', name: 'rate', kind: 'failure_rate', queue: 'emails', type: null, threshold: null, window_ms: 90_000, rate_percent: 12.5, min_jobs: 20, max_age_ms: null,
      monitor_states: ['down'], monitor: null, schedule: null, channels: ['ops'], cooldown_ms: 1_800_000, enabled: false, created_at: '', updated_at: '',
    } as unknown as AlertRule;
    const form = ruleFormFrom(stored);
    expect(form).toMatchObject({ name: 'rate', kind: 'failure_rate', window_minutes: '1.5', rate_percent: '12.5', min_jobs: '20', cooldown_minutes: '30', enabled: false });
    expect(ruleRequestFrom(form).body).toMatchObject({ kind: 'failure_rate', queue: 'emails', window_ms: 90_000, rate_percent: 12.5, min_jobs: 20, cooldown_ms: 1_800_000, enabled: false, channels: ['ops'] });
  });

  it('edits a channel: plain fields shown, secrets empty and kept unless typed, other stored settings kept', () => {
    const email = { id: '1', name: 'mail', kind: 'email', config: { host: 'smtp.example.com', port: 2525, password: '••••word', from: 'k@x.io', to: ['a@x.io', 'b@x.io'] } } as unknown as AlertChannel;
    expect(channelFieldsFrom(email)).toEqual({ host: 'smtp.example.com', port: '2525', from: 'k@x.io', to: 'a@x.io, b@x.io' });
    const hook = { id: '2', name: 'hook', kind: 'webhook', config: { url: 'https://h.example.com/x', secret: '••••1234', headers: { 'X-Team': 'ops' } } } as unknown as AlertChannel;
    expect(channelFieldsFrom(hook)).toEqual({ url: 'https://h.example.com/x' });
    expect(channelUpdateFrom(hook, { url: 'https://h.example.com/y' })).toEqual({ url: 'https://h.example.com/y', secret: null, headers: { 'X-Team': 'ops' } });
    expect(channelUpdateFrom(hook, { url: 'https://h.example.com/y', secret: 'new-secret' }).secret).toBe('new-secret');
    const slack = { id: '3', name: 'slack', kind: 'slack', config: { url: 'https://hooks.slack.com/••••' } } as unknown as AlertChannel;
    expect(channelFieldsFrom(slack)).toEqual({});
    expect(channelUpdateFrom(slack, {})).toEqual({ url: null });
  });

  it('plans a maintenance window now or later, and names what is wrong', () => {
    const now = new Date('2026-12-03T10:00:00Z');
    expect(windowRequestFrom({ rule: '', starts: '', hours: '1.5', reason: ' deploy ' }, now).body)
      .toEqual({ rule: null, starts_at: null, ends_at: null, duration_ms: 5_400_000, reason: 'deploy' });
    expect(windowRequestFrom({ rule: 'mail', starts: '2026-12-24T18:00:00Z', hours: '2', reason: '' }, now).body)
      .toEqual({ rule: 'mail', starts_at: '2026-12-24T18:00:00.000Z', ends_at: null, duration_ms: 7_200_000, reason: null });
    expect(windowRequestFrom({ rule: '', starts: 'soon', hours: '0', reason: '' }, now).errors)
      .toEqual({ starts_at: ['is not a date and time'], duration_ms: ['must be a positive number of hours'] });
    expect(windowRequestFrom({ rule: '', starts: '2026-12-01T08:00:00Z', hours: '1', reason: '' }, now).errors).toEqual({ starts_at: ['the window would be over already'] });
  });
});
