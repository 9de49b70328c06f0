import { cloneElement, lazy, Suspense, useState, type ComponentType, type HTMLAttributes, type ReactElement } from 'react';
import { useIdle } from '@/lib/useIdle';

type Opens = { trigger: ReactElement; defaultOpen?: boolean };

/**
 * A menu of the shell, not seen on the first paint but for its button (`trigger`): its code is its own chunk, loaded once
 * the page is idle, or sooner when the user reaches for the button (pointer over, focus). Until then the button stands
 * alone; a click on it opens the menu as soon as its code is here.
 */
export function deferred<P extends Opens>(importer: () => Promise<ComponentType<P>>) {
  let pending: Promise<{ default: ComponentType<P> }> | undefined;
  const load = () =>
    (pending ??= importer().then(
      (component) => ({ default: component }),
      (e: unknown) => {
        pending = undefined;
        throw e;
      },
    ));
  const Lazy = lazy(load) as unknown as ComponentType<P>;
  return function Deferred({ trigger, ...props }: Omit<P, 'defaultOpen'>) {
    const idle = useIdle();
    const [opened, setOpened] = useState(false);
    const reach = () => void load().catch(() => {
      // Tried again at the next reach (or click).
    });
    const standIn = cloneElement(trigger as ReactElement<HTMLAttributes<HTMLElement>>, { onPointerEnter: reach, onFocus: reach, onClick: () => setOpened(true) });
    if (!idle && !opened) return standIn;
    return (
      <Suspense fallback={standIn}>
        <Lazy {...(props as unknown as P)} trigger={trigger} defaultOpen={opened} />
      </Suspense>
    );
  };
}
