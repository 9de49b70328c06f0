import { describe, expect, it } from 'vitest';
import { splitLocal } from './SchedulePreview';
import { emptyScheduleForm, formFromSchedule, previewQuery, scheduleRequestFrom, splitInterval, timingOf, type Schedule } from './scheduleForm';

const form = () => ({ ...emptyScheduleForm(), timezone: 'Europe/Berlin', name: 'nightly', type: 'report.build', queue: 'reports' });

describe('the schedule form', () => {
  it('asks for a preview of the cron expression or the interval in its zone', () => {
    expect(previewQuery({ ...form(), cron: ' 0 3 * * * ' })).toEqual({ cron: '0 3 * * *', timezone: 'Europe/Berlin' });
    expect(previewQuery({ ...form(), kind: 'every', every: '15', unit: 'minutes' })).toEqual({ every_ms: '900000', timezone: 'Europe/Berlin' });
    expect(previewQuery({ ...form(), cron: '' })).toBeNull();
    expect(previewQuery({ ...form(), kind: 'every', every: 'x' })).toBeNull();
  });

  it('makes the request with the job template and policies', () => {
    const r = scheduleRequestFrom({ ...form(), cron: '0 3 * * *', payload: '{"kind": "nightly"}', overlap: 'skip', catch_up: 'all', catch_up_limit: '5', jitter_ms: '30000' });
    expect(r.body).toMatchObject({
      name: 'nightly', cron: '0 3 * * *', every_ms: null, timezone: 'Europe/Berlin', overlap: 'skip', catch_up: 'all', catch_up_limit: 5, jitter_ms: 30000,
      job: { queue: 'reports', type: 'report.build', payload: { kind: 'nightly' }, priority: null, max_attempts: null, timeout_ms: null, tags: [] },
      start_at: null, end_at: null, paused: false, pause_reason: null,
    });
  });

  it('names the wrong fields as the server does (job.* for the template)', () => {
    const r = scheduleRequestFrom({ ...form(), name: '', cron: '', type: '', payload: 'nope', jitter_ms: '-1' });
    expect(Object.keys(r.errors ?? {}).sort()).toEqual(['cron', 'jitter_ms', 'job.payload', 'job.type', 'name']);
  });

  it('starts a workflow template instead of a job when the form names one (the job fields are not checked then)', () => {
    const r = scheduleRequestFrom({ ...form(), cron: '0 3 * * *', type: '', payload: 'not json', starts: 'workflow', workflow: ' nightly-etl ' });
    expect(r.errors).toBeUndefined();
    expect(r.body).toMatchObject({ job: null, workflow: 'nightly-etl' });
    expect(scheduleRequestFrom({ ...form(), cron: '0 3 * * *', workflow: 'left over' }).body).toMatchObject({ workflow: null, job: { type: 'report.build' } });
    expect(scheduleRequestFrom({ ...form(), cron: '0 3 * * *', starts: 'workflow' }).errors).toEqual({ workflow: ['is required: the workflow template each run starts'] });
    const s = {
      id: '1', name: 'etl', cron: '0 3 * * *', every_ms: null, timezone: 'UTC', description: '', overlap: 'skip', catch_up: 'once', catch_up_limit: 10,
      jitter_ms: 0, start_at: null, end_at: null, paused: false, pause_reason: null, job: null, workflow: 'nightly-etl', last_workflow_id: null,
    } as unknown as Schedule;
    expect(formFromSchedule(s)).toMatchObject({ starts: 'workflow', workflow: 'nightly-etl', type: '', queue: 'default', payload: '{}' });
  });

  it('reads a schedule back into the form, interval in its biggest whole unit', () => {
    const s = {
      id: '1', name: 'tick', cron: null, every_ms: 7_200_000, timezone: 'UTC', description: 'every 2 hours', overlap: 'allow', catch_up: 'once',
      catch_up_limit: 10, jitter_ms: 0, start_at: null, end_at: null, paused: true, pause_reason: 'maintenance', next_fire_at: null, last_fire_at: null,
      last_job_id: null, created_at: null, updated_at: null,
      job: { queue: 'q', type: 't', payload: { a: 1 }, priority: 0, max_attempts: 3, timeout_ms: null, tags: ['x'] },
    } as unknown as Schedule;
    expect(formFromSchedule(s)).toMatchObject({ kind: 'every', every: '2', unit: 'hours', max_attempts: '3', tags: 'x', paused: true, pause_reason: 'maintenance' });
    expect(timingOf(s)).toBe('every 2 hours');
    expect(splitInterval(1500)).toEqual({ every: '1.5', unit: 'seconds' });
  });
});

describe('splitLocal', () => {
  it('reads a fire time in its zone as day, time and offset', () => {
    expect(splitLocal('2026-12-04T02:30:00.000+01:00')).toEqual({ day: 'Fri 2026-12-04', time: '02:30', offset: 'UTC+01:00' });
    expect(splitLocal('2026-12-04T02:30:15.000Z')).toEqual({ day: 'Fri 2026-12-04', time: '02:30:15', offset: 'UTC' });
  });
});
