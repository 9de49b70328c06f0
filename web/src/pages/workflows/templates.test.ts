import { describe, expect, it } from 'vitest';
import { describeTemplate, queuesOf, type WorkflowTemplate } from './templates';

const step = (id: string, depends_on: string[] = [], queue = 'etl') =>
  ({ id, depends_on, continue_on_failure: false, job: { queue, type: `t.${id}`, payload: null, priority: 0, max_attempts: null, timeout_ms: null, tags: [] } });
const template = (...steps: ReturnType<typeof step>[]) => ({ steps }) as unknown as WorkflowTemplate;

describe('a workflow template in a line', () => {
  it('names where a diamond starts and ends, with the middle elided', () => {
    expect(describeTemplate(template(step('extract'), step('clean', ['extract']), step('enrich', ['extract']), step('load', ['clean', 'enrich']))))
      .toBe('4 steps: extract → … → load');
  });

  it('joins roots straight to leaves when nothing lies between, and counts long lists', () => {
    expect(describeTemplate(template(step('a'), step('b', ['a'])))).toBe('2 steps: a → b');
    const fan = template(step('split'), ...['1', '2', '3', '4', '5'].map((n) => step(`p${n}`, ['split'])));
    expect(describeTemplate(fan)).toBe('6 steps: split → p1, p2, p3 +2');
    expect(describeTemplate(template(step('only')))).toBe('1 step: only');
    expect(describeTemplate(template())).toBe('no steps');
  });

  it('lists the queues its steps run on once each', () => {
    expect(queuesOf(template(step('a', [], 'etl'), step('b', ['a'], 'slow'), step('c', ['a'], 'etl')))).toEqual(['etl', 'slow']);
  });
});
