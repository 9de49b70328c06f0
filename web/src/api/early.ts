/**
 * Answers asked before the console's code has loaded. `boot.ts`, the first module index.html runs (a few KB, no
 * React), asks the API with `fetch` what the first page will need; the client's first request for the same URL takes
 * that answer instead of asking again (`fetchEarly`, the API client's fetch). Each answer is taken once; whatever is
 * left when the first page's preload has settled is forgotten (`forgetEarly`), so a later request always asks anew.
 */

const answers = new Map<string, Promise<Response>>();

/** A URL as compared here: its path and its query, parameters in order. */
function key(url: string): string {
  const u = new URL(url, window.location.origin);
  u.searchParams.sort();
  return u.pathname + u.search;
}

/** Asks the API for `path` (a GET with the session's cookie) and keeps the answer for the client's first request for it. */
export function askEarly(path: string): Promise<Response> {
  const answer = fetch(new URL(path, window.location.origin).href, { credentials: 'same-origin' });
  answers.set(key(path), answer);
  // A failure is the taker's to see (an answer nobody takes is not an unhandled rejection).
  answer.catch(() => undefined);
  return answer;
}

/** The API client's fetch: the answer asked early for this request if there is one, else the API's. */
export async function fetchEarly(request: Request): Promise<Response> {
  if (request.method === 'GET' && answers.size > 0) {
    const k = key(request.url);
    const answer = answers.get(k);
    if (answer) {
      answers.delete(k);
      return answer;
    }
  }
  return globalThis.fetch(request);
}

/** Forgets the answers nobody took; from now on every request asks the API. */
export function forgetEarly(): void {
  answers.clear();
}
