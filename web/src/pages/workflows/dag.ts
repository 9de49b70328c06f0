import { Graph, layout } from '@dagrejs/dagre';
import type { Schemas } from '@/api/client';

export type Workflow = Schemas['WorkflowDto'];
export type WorkflowStep = Schemas['WorkflowStepDto'];

/** The size of a step's node in the drawing, in px. */
export const NODE_WIDTH = 200;
export const NODE_HEIGHT = 64;

/** Where a step's node goes: its top-left corner. */
export interface Placed {
  id: string;
  x: number;
  y: number;
}

/**
 * Lays the DAG out with dagre, left to right (roots left, each step right of all its parents), and answers each step's
 * top-left corner (dagre gives centres). Parents that are not steps are left out (a graph as the server checked it
 * has none). Rows of equal rank are spaced so a 1,000-step fan-out stays a readable column.
 */
export function layoutDag(steps: readonly Pick<WorkflowStep, 'id' | 'depends_on'>[], direction: 'LR' | 'TB' = 'LR'): Placed[] {
  const g = new Graph();
  g.setGraph({ rankdir: direction, nodesep: 24, ranksep: 72, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  const ids = new Set(steps.map((s) => s.id));
  for (const s of steps) g.setNode(s.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const s of steps) for (const p of s.depends_on) if (ids.has(p)) g.setEdge(p, s.id);
  layout(g);
  return steps.map((s) => {
    const n = g.node(s.id) as { x: number; y: number };
    return { id: s.id, x: Math.round(n.x - NODE_WIDTH / 2), y: Math.round(n.y - NODE_HEIGHT / 2) };
  });
}

/** Job states in the order a legend lists them, with the colours of a step's node (border and fill) in that state. */
export const STEP_STYLES: Record<string, string> = {
  pending: 'border-zinc-300 bg-white dark:border-zinc-700 dark:bg-zinc-900',
  scheduled: 'border-sky-300 bg-sky-50 dark:border-sky-800 dark:bg-sky-950',
  queued: 'border-indigo-300 bg-indigo-50 dark:border-indigo-800 dark:bg-indigo-950',
  running: 'border-amber-400 bg-amber-50 ring-2 ring-amber-300/60 dark:border-amber-600 dark:bg-amber-950 dark:ring-amber-700/60',
  retrying: 'border-orange-400 bg-orange-50 dark:border-orange-700 dark:bg-orange-950',
  succeeded: 'border-emerald-400 bg-emerald-50 dark:border-emerald-700 dark:bg-emerald-950',
  failed: 'border-red-400 bg-red-50 dark:border-red-700 dark:bg-red-950',
  cancelled: 'border-zinc-300 bg-zinc-100 opacity-70 dark:border-zinc-700 dark:bg-zinc-800',
  deleted: 'border-dashed border-zinc-300 bg-white opacity-60 dark:border-zinc-700 dark:bg-zinc-900',
};

/** The colour of an edge: a path already walked (its parent succeeded) is solid green, one that stopped red. */
export function edgeTone(parentState: string): 'done' | 'stopped' | 'waiting' {
  if (parentState === 'succeeded') return 'done';
  if (parentState === 'failed' || parentState === 'cancelled') return 'stopped';
  return 'waiting';
}

/** Steps per state, counted from the steps (the server's step_states, kept right when events patch a step). */
export function countStates(steps: readonly Pick<WorkflowStep, 'state'>[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of steps) counts[s.state] = (counts[s.state] ?? 0) + 1;
  return counts;
}
