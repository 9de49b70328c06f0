import createClient, { type Middleware } from 'openapi-fetch';
import { fetchEarly } from './early';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];
export type Job = Schemas['JobDto'];
export type Queue = Schemas['QueueDto'];
export type Worker = Schemas['WorkerDto'];
export type Stats = Schemas['StatsResponse'];
export type Me = Schemas['MeDto'];
export type JobLogEntry = Schemas['JobLogEntryDto'];

/** A problem+json answer (or a network failure) as an Error. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly errors?: Record<string, string[]>,
  ) {
    super(detail ?? title);
  }
}

let csrfToken: string | null = null;

/** The session's CSRF token (from GET /auth/me, login or setup), sent with every unsafe request. */
export function setCsrfToken(token: string | null | undefined): void {
  csrfToken = token ?? null;
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export const csrfMiddleware: Middleware = {
  onRequest({ request }) {
    if (!SAFE.has(request.method) && csrfToken) request.headers.set('X-CSRF-Token', csrfToken);
    return request;
  },
};

export const api = createClient<paths>({
  baseUrl: typeof window === 'undefined' ? '' : window.location.origin,
  credentials: 'same-origin',
  // The answer boot.ts asked for early if there is one, else globalThis.fetch (looked up at each call, so tests can stand in for it).
  fetch: fetchEarly,
});
api.use(csrfMiddleware);

interface Problem {
  title?: string;
  detail?: string;
  errors?: Record<string, string[]>;
}

/** Unwraps an openapi-fetch answer: its data, or throws an ApiError made from the problem details. */
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) {
    const p = (error ?? {}) as Problem;
    throw new ApiError(response.status, p.title ?? response.statusText, p.detail, p.errors);
  }
  return data as T;
}
