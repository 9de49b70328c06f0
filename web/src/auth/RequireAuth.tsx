import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { useMe, useSetupRequired } from '@/api/queries';
import { ErrorNote, Skeleton } from '@/components/PageHeader';

/** Renders its children for a signed-in user; sends others to setup (first run) or to the login page. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const me = useMe();
  const setup = useSetupRequired(me.data === null);
  const location = useLocation();
  if (me.isPending || (me.data === null && setup.isPending)) {
    return (
      <div className="mx-auto mt-24 w-64 space-y-3" aria-busy>
        <Skeleton />
        <Skeleton className="h-4 w-2/3" />
      </div>
    );
  }
  if (me.error) return <div className="m-8"><ErrorNote error={me.error} /></div>;
  if (!me.data) {
    if (setup.data?.required) return <Navigate to="/setup" replace />;
    const next = location.pathname + location.search;
    return <Navigate to={next === '/' ? '/login' : `/login?next=${encodeURIComponent(next)}`} replace />;
  }
  return <>{children}</>;
}
