import { Link, useNavigate } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Play } from 'lucide-react';
import { api, unwrap } from '@/api/client';
import { keys } from '@/api/keys';
import { useCan, useWorkflowTemplates } from '@/api/queries';
import { ErrorNote } from '@/components/PageHeader';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card, CardContent, CardHeader, CardTitle } from '@/components/ui/card';
import { toast } from '@/lib/toast';
import { formatTime, relativeTime } from '@/lib/utils';
import { describeTemplate, queuesOf } from './templates';

/**
 * The organization's workflow templates, each with its shape in a line and a run button (members and up): a run makes
 * an instance from the template as it is now and opens it. Nothing is shown while there are none.
 */
export function WorkflowTemplates() {
  const templates = useWorkflowTemplates();
  const canWrite = useCan('schedules.write');
  const qc = useQueryClient();
  const navigate = useNavigate();
  const run = useMutation({
    mutationFn: (name: string) => unwrap(api.POST('/api/v1/workflow-templates/{name}/run', { params: { path: { name } } })),
    onSuccess: (w) => {
      qc.setQueryData(keys.workflow(w.id), w);
      void qc.invalidateQueries({ queryKey: keys.workflows });
      toast.success('Workflow started', `${w.name}: ${w.steps_total} steps`);
      void navigate(`/workflows/${w.id}`);
    },
    onError: (e) => toast.error(e),
  });
  const items = templates.data?.items ?? [];
  if (templates.error) return <ErrorNote error={templates.error} />;
  if (items.length === 0) return null;

  return (
    <Card className="mb-4" data-testid="workflow-templates">
      <CardHeader><CardTitle>Templates</CardTitle></CardHeader>
      <CardContent>
        <ul className="divide-y divide-zinc-100 dark:divide-zinc-800">
          {items.map((t) => (
            <li key={t.id} data-template={t.name} className="flex flex-wrap items-center gap-x-4 gap-y-1 py-2 text-sm">
              <Link to={`/workflows?name=${encodeURIComponent(t.name)}`} className="font-medium hover:underline" title="Its runs">{t.name}</Link>
              <span className="text-zinc-600 dark:text-zinc-400">{describeTemplate(t)}</span>
              <span className="text-xs text-zinc-500">on {queuesOf(t).join(', ')}</span>
              {t.managed_by && <Badge className="bg-zinc-100 text-zinc-600 ring-zinc-300 dark:bg-zinc-800 dark:text-zinc-300">{t.managed_by}</Badge>}
              <span className="text-xs text-zinc-500" title={formatTime(t.updated_at)}>changed {relativeTime(t.updated_at)}</span>
              {canWrite && (
                <Button className="ml-auto" variant="outline" size="sm" disabled={run.isPending} onClick={() => run.mutate(t.name)} aria-label={`Run ${t.name}`}>
                  <Play className="h-4 w-4" /> Run
                </Button>
              )}
            </li>
          ))}
        </ul>
      </CardContent>
    </Card>
  );
}
