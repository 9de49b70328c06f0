/**
 * A code-split module: imported once, whether by the route that shows it or ahead of that by a preload, and kept once
 * loaded, so that a page whose chunk is already here renders at once instead of suspending (React holds a revealed
 * Suspense boundary back up to 300 ms after its fallback showed). A failed import is tried again at the next load.
 */
export interface Chunk<M> {
  load: () => Promise<M>;
  /** The module, once loaded. */
  loaded: () => M | undefined;
}

export function chunk<M>(importer: () => Promise<M>): Chunk<M> {
  let pending: Promise<M> | undefined;
  let module: M | undefined;
  return {
    load: () =>
      (pending ??= importer().then(
        (m) => (module = m),
        (e: unknown) => {
          pending = undefined;
          throw e;
        },
      )),
    loaded: () => module,
  };
}
