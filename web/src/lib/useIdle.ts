import { useEffect, useState } from 'react';

const whenIdle = (run: () => void): (() => void) => {
  if (typeof requestIdleCallback === 'function' && typeof cancelIdleCallback === 'function') {
    const cancel = cancelIdleCallback;
    const id = requestIdleCallback(run, { timeout: 1000 });
    return () => cancel(id);
  }
  const id = setTimeout(run, 1);
  return () => clearTimeout(id);
};

/**
 * False on the first render, true once the browser has had a moment with nothing to do (at most a second later): for
 * what may appear a moment after the rest, such as dates in the reader's locale, whose first `Intl` use is costly.
 */
export function useIdle(): boolean {
  const [idle, setIdle] = useState(false);
  useEffect(() => whenIdle(() => setIdle(true)), []);
  return idle;
}
