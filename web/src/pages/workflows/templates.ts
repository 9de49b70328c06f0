import type { Schemas } from '@/api/client';

export type WorkflowTemplate = Schemas['WorkflowTemplateDto'];

/** The shape of a template in a line: its steps, where it starts and where it ends ("4 steps: extract → … → load, report"). */
export function describeTemplate(t: Pick<WorkflowTemplate, 'steps'>): string {
  const steps = t.steps;
  if (steps.length === 0) return 'no steps';
  const parents = new Set(steps.flatMap((s) => s.depends_on));
  const roots = steps.filter((s) => s.depends_on.length === 0).map((s) => s.id);
  const leaves = steps.filter((s) => !parents.has(s.id)).map((s) => s.id);
  const count = `${steps.length} step${steps.length === 1 ? '' : 's'}`;
  if (steps.length === 1) return `${count}: ${steps[0]?.id ?? ''}`;
  const list = (ids: string[]) => (ids.length > 3 ? `${ids.slice(0, 3).join(', ')} +${ids.length - 3}` : ids.join(', '));
  const middle = steps.length > roots.length + leaves.length ? ' → … → ' : ' → ';
  return `${count}: ${list(roots)}${middle}${list(leaves)}`;
}

/** The queues a template's steps run on, each once, in the order of the steps. */
export function queuesOf(t: Pick<WorkflowTemplate, 'steps'>): string[] {
  return [...new Set(t.steps.map((s) => s.job.queue))];
}
