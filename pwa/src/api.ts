// The API client: same-origin JSON over the session cookie. Every write carries X-CSRF-Token; every error
// becomes an ApiError holding the RFC 9457 problem (or one synthesised from the status), and a failure to
// reach the server at all becomes a NetworkError so callers can tell "offline" from "refused".
import type { Problem } from './types';

export class ApiError extends Error {
  constructor(
    public problem: Problem,
    /** Seconds from Retry-After (429), when given. */
    public retryAfter: number | null = null,
  ) {
    super(problem.detail || problem.title);
  }
  get status() {
    return this.problem.status;
  }
}

export class NetworkError extends Error {
  constructor(cause?: unknown) {
    super('You appear to be offline: the server could not be reached.');
    this.cause = cause;
  }
}

let csrfToken: string | null = null;
let onUnauthorized: (() => void) | null = null;

export function setCsrfToken(token: string | null) {
  csrfToken = token;
}
export function getCsrfToken() {
  return csrfToken;
}
/** Called when a request other than the auth endpoints answers 401 (the session ended). */
export function setUnauthorizedHandler(fn: () => void) {
  onUnauthorized = fn;
}

export interface RequestOptions {
  /** Send this text (or file) as the body with this content type instead of JSON. */
  raw?: { body: string | Blob; contentType: string };
  signal?: AbortSignal;
}

export async function request<T>(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json, application/problem+json' };
  let payload: string | Blob | undefined;
  if (opts.raw) {
    headers['Content-Type'] = opts.raw.contentType;
    payload = opts.raw.body;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;

  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin', signal: opts.signal });
  } catch (e) {
    if ((e as Error)?.name === 'AbortError') throw e;
    throw new NetworkError(e);
  }

  if (res.ok) {
    if (res.status === 204) return undefined as T;
    const type = res.headers.get('content-type') || '';
    if (type.includes('json')) return (await res.json()) as T;
    return (await res.text()) as unknown as T;
  }

  const problem = await readProblem(res);
  const ra = res.headers.get('retry-after');
  const retryAfter = ra ? (/^\d+$/.test(ra) ? Number(ra) : Math.max(0, Math.round((Date.parse(ra) - Date.now()) / 1000))) : null;
  if (res.status === 401 && !path.startsWith('/v1/auth/') && onUnauthorized) onUnauthorized();
  throw new ApiError(problem, Number.isFinite(retryAfter) ? retryAfter : null);
}

async function readProblem(res: Response): Promise<Problem> {
  const fallback: Problem = { title: res.statusText || `HTTP ${res.status}`, status: res.status };
  try {
    const type = res.headers.get('content-type') || '';
    if (type.includes('json')) {
      const p = (await res.json()) as Partial<Problem>;
      return { ...fallback, ...p, status: p.status ?? res.status, title: p.title ?? fallback.title };
    }
    const text = (await res.text()).trim();
    if (text && text.length < 300) return { ...fallback, detail: text };
  } catch {
    /* keep the fallback */
  }
  return fallback;
}

export const api = {
  get: <T>(path: string, opts?: RequestOptions) => request<T>('GET', path, undefined, opts),
  post: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('POST', path, body ?? {}, opts),
  put: <T>(path: string, body?: unknown) => request<T>('PUT', path, body ?? {}),
  patch: <T>(path: string, body?: unknown) => request<T>('PATCH', path, body ?? {}),
  del: <T>(path: string, body?: unknown) => request<T>('DELETE', path, body),
};

/** A human sentence for any thrown value. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.problem.detail || e.problem.title;
  if (e instanceof Error) return e.message;
  return String(e);
}
