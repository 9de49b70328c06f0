import { describe, expect, it } from 'vitest';
import { countStates, edgeTone, layoutDag, NODE_HEIGHT, NODE_WIDTH } from './dag';

const step = (id: string, ...depends_on: string[]) => ({ id, depends_on });

describe('the DAG layout', () => {
  it('puts every step right of all its parents, and the branches of a diamond apart', () => {
    const placed = new Map(layoutDag([step('extract'), step('clean', 'extract'), step('enrich', 'extract'), step('load', 'clean', 'enrich')]).map((p) => [p.id, p]));
    const x = (id: string) => placed.get(id)!.x;
    const y = (id: string) => placed.get(id)!.y;
    expect(x('clean')).toBeGreaterThanOrEqual(x('extract') + NODE_WIDTH);
    expect(x('enrich')).toBe(x('clean'));
    expect(x('load')).toBeGreaterThanOrEqual(x('clean') + NODE_WIDTH);
    // The two branches do not overlap.
    expect(Math.abs(y('clean') - y('enrich'))).toBeGreaterThanOrEqual(NODE_HEIGHT);
    // Corners, not centres: the first rank starts at the margin.
    expect(x('extract')).toBe(16);
  });

  it('lays out a fan-out of 1,000 steps and its join without overlaps', () => {
    const fan = Array.from({ length: 1000 }, (_, i) => step(`s${i}`, 'root'));
    const placed = layoutDag([step('root'), ...fan, step('join', ...fan.map((s) => s.id))]);
    expect(placed).toHaveLength(1002);
    const column = placed.filter((p) => p.id.startsWith('s')).map((p) => p.y).sort((a, b) => a - b);
    for (let i = 1; i < column.length; i++) expect(column[i]! - column[i - 1]!).toBeGreaterThanOrEqual(NODE_HEIGHT);
    const at = new Map(placed.map((p) => [p.id, p.x]));
    expect(at.get('join')!).toBeGreaterThan(at.get('s0')!);
  });

  it('ignores a parent that is not a step', () => {
    expect(layoutDag([step('a', 'ghost')]).map((p) => p.id)).toEqual(['a']);
  });
});

describe('step colours', () => {
  it('draws an edge done once its parent succeeded, stopped when it failed or was cancelled', () => {
    expect(['succeeded', 'failed', 'cancelled', 'running', 'pending'].map(edgeTone)).toEqual(['done', 'stopped', 'stopped', 'waiting', 'waiting']);
  });

  it('counts the steps per state', () => {
    expect(countStates([{ state: 'succeeded' }, { state: 'running' }, { state: 'succeeded' }])).toEqual({ succeeded: 2, running: 1 });
  });
});
