import { describe, expect, it } from 'vitest';
import { deliveryBadge, parseEventTypes, statusText, webhookEditForm, webhookPatchFrom } from './webhookForm';

describe('the webhook form', () => {
  it('reads event types separated by commas or spaces, without blanks or repeats', () => {
    expect(parseEventTypes(' job.failed,monitor.*  job.failed ,, alert.fired ')).toEqual(['job.failed', 'monitor.*', 'alert.fired']);
    expect(parseEventTypes('  ')).toEqual([]);
  });

  it('shows a pending delivery as queued before its first attempt, retrying after', () => {
    expect([deliveryBadge('pending', 0), deliveryBadge('pending', 2), deliveryBadge('succeeded', 1)]).toEqual(['queued', 'retrying', 'succeeded']);
  });

  it('says how an attempt ended: its status, or no answer', () => {
    expect([statusText(200), statusText(null, 'timed out'), statusText(null)]).toEqual(['200', 'no answer', '—']);
  });

  it('edits an endpoint: its URL, event types and description, never its state', () => {
    const form = webhookEditForm({ url: 'https://a.example.com/h', event_types: ['job.failed', 'monitor.*'], description: null });
    expect(form).toEqual({ url: 'https://a.example.com/h', types: 'job.failed, monitor.*', description: '' });
    expect(webhookPatchFrom({ ...form, url: ' https://b.example.com/h ', types: 'job.*, job.*' }).body)
      .toEqual({ url: 'https://b.example.com/h', description: null, event_types: ['job.*'], enabled: null });
    expect(webhookPatchFrom({ url: ' ', types: ' , ', description: 'x' }).errors).toEqual({ url: ['is required'], event_types: ['give at least one event type'] });
  });
});
