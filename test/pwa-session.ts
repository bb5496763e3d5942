// Signing in as the PWA does (session cookie + CSRF token), for API tests of the PWA's endpoints.
import { expect } from 'vitest';
import type { TestHerald } from './harness';

export interface PwaSession {
  cookie: string;
  csrf: string;
  user: { id: number; name: string; email: string; roles: string[] };
  /** fetch with the session cookie; writes carry X-CSRF-Token unless `csrf: false`. */
  call: (method: string, path: string, body?: unknown, o?: { csrf?: boolean }) => Promise<{ status: number; body: any; headers: Headers }>;
}

export async function signIn(h: TestHerald, email: string, password: string): Promise<PwaSession> {
  const res = await fetch(`${h.url}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  expect(res.status).toBe(200);
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0];
  const body = (await res.json()) as { user: PwaSession['user']; csrf_token: string };
  const call: PwaSession['call'] = async (method, path, payload, o = {}) => {
    const headers: Record<string, string> = { cookie };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && o.csrf !== false) headers['x-csrf-token'] = body.csrf_token;
    const r = await fetch(h.url + path, { method, headers, body: payload === undefined ? undefined : JSON.stringify(payload) });
    const text = await r.text();
    let parsed: any = text;
    try { parsed = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
    return { status: r.status, body: parsed, headers: r.headers };
  };
  return { cookie, csrf: body.csrf_token, user: body.user, call };
}
