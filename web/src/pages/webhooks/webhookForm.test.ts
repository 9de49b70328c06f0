import { describe, expect, it } from 'vitest';
import { parseEventTypes, statusText } from './webhookForm';

describe('the webhook form', () => {
  it('reads event types separated by commas or spaces, without blanks or repeats', () => {
    expect(parseEventTypes(' job.failed,monitor.*  job.failed ,, alert.fired ')).toEqual(['job.failed', 'monitor.*', 'alert.fired']);
    expect(parseEventTypes('  ')).toEqual([]);
  });

  it('says how an attempt ended: its status, or no answer', () => {
    expect([statusText(200), statusText(null, 'timed out'), statusText(null)]).toEqual(['200', 'no answer', '—']);
  });
});
