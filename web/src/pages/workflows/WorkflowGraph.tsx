import { memo, useMemo } from 'react';
import { useNavigate } from 'react-router';
import { Background, Controls, Handle, MarkerType, MiniMap, Position, ReactFlow, type Edge, type Node, type NodeProps } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { useDarkClass } from '@/lib/theme';
import { cn } from '@/lib/utils';
import { edgeTone, layoutDag, NODE_HEIGHT, NODE_WIDTH, STEP_STYLES, type WorkflowStep } from './dag';

type StepNode = Node<{ step: WorkflowStep }, 'step'>;

/** A step: its id, its job's type, its state; a click opens its job. */
const StepNodeView = memo(function StepNodeView({ data }: NodeProps<StepNode>) {
  const s = data.step;
  return (
    <div
      data-step={s.id}
      data-step-state={s.state}
      title={s.last_error?.message ?? undefined}
      style={{ width: NODE_WIDTH, height: NODE_HEIGHT }}
      className={cn('flex cursor-pointer flex-col justify-center rounded-md border px-3 text-left shadow-sm transition-colors', STEP_STYLES[s.state] ?? STEP_STYLES.pending)}
    >
      <Handle type="target" position={Position.Left} isConnectable={false} className="!h-1.5 !w-1.5 !border-0 !bg-zinc-400" />
      <div className="flex items-center justify-between gap-2">
        <span className="truncate text-sm font-medium">{s.id}</span>
        <span className="flex shrink-0 items-center gap-1 text-[10px] font-medium tracking-wide uppercase opacity-80">
          {s.state === 'running' && <span className="h-1.5 w-1.5 animate-pulse rounded-full bg-current" aria-hidden />}
          {s.state}
        </span>
      </div>
      <div className="truncate text-xs text-zinc-500 dark:text-zinc-400">
        {s.type ?? '—'}{s.attempt != null && s.attempt > 1 ? ` · attempt ${s.attempt}` : ''}{s.continue_on_failure ? ' · may fail' : ''}
      </div>
      <Handle type="source" position={Position.Right} isConnectable={false} className="!h-1.5 !w-1.5 !border-0 !bg-zinc-400" />
    </div>
  );
});

const nodeTypes = { step: StepNodeView };

const EDGE_COLOURS = { done: '#10b981', stopped: '#ef4444', waiting: '#a1a1aa' } as const;

/**
 * The workflow's DAG, laid out by dagre (left to right) and drawn by React Flow: each node coloured by its job's
 * state as the live events patch it, edges green once their parent succeeded and moving while it runs; a click on a
 * node opens its job (the steps table below the graph has the same links for the keyboard).
 */
export function WorkflowGraph({ steps }: { steps: readonly WorkflowStep[] }) {
  const navigate = useNavigate();
  const dark = useDarkClass();
  // The layout depends on the shape only, not the states: it is made again only when steps or edges change.
  const shape = steps.map((s) => `${s.id}<${s.depends_on.join(',')}`).join(';');
  const placed = useMemo(() => layoutDag(steps), [shape]);
  const byId = useMemo(() => new Map(steps.map((s) => [s.id, s])), [steps]);

  const nodes = useMemo<StepNode[]>(
    () => placed.map((p) => ({
      id: p.id, type: 'step', position: { x: p.x, y: p.y }, data: { step: byId.get(p.id)! }, width: NODE_WIDTH, height: NODE_HEIGHT,
      ariaLabel: `Step ${p.id}: ${byId.get(p.id)?.state}. Open its job`,
    })),
    [placed, byId],
  );
  const edges = useMemo<Edge[]>(
    () => steps.flatMap((s) => s.depends_on.filter((p) => byId.has(p)).map((p) => {
      const parent = byId.get(p)!;
      const tone = edgeTone(parent.state);
      return {
        id: `${p}->${s.id}`, source: p, target: s.id, type: 'smoothstep', animated: parent.state === 'running',
        style: { stroke: EDGE_COLOURS[tone], strokeWidth: tone === 'waiting' ? 1.5 : 2, strokeDasharray: tone === 'stopped' ? '4 3' : undefined },
        markerEnd: { type: MarkerType.ArrowClosed, color: EDGE_COLOURS[tone], width: 16, height: 16 },
      };
    })),
    [steps, byId],
  );

  return (
    <div className="h-[28rem] w-full overflow-hidden rounded-lg border border-zinc-200 dark:border-zinc-800" aria-label="Workflow graph" role="figure">
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        colorMode={dark ? 'dark' : 'light'}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable
        onNodeClick={(_, node) => navigate(`/jobs/${byId.get(node.id)?.job_id}`)}
        onNodesChange={() => {}}
        onlyRenderVisibleElements={steps.length > 200}
        fitView
        fitViewOptions={{ padding: 0.15, maxZoom: 1.25 }}
        minZoom={0.05}
        proOptions={{ hideAttribution: true }}
      >
        <Background gap={16} size={1} />
        <Controls showInteractive={false} />
        {steps.length > 30 && <MiniMap pannable zoomable nodeStrokeWidth={3} />}
      </ReactFlow>
    </div>
  );
}
