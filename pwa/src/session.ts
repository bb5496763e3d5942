// Who is signed in. The session itself is an HttpOnly cookie; the page keeps the user and the CSRF token,
// remembers them in localStorage so the app (and the last queue) opens offline, and hands the token to
// the service worker so a notification's Acknowledge action can act for the user.
import { api, ApiError, NetworkError, setCsrfToken } from './api';
import { disablePush, pushSupported } from './push';
import { createStore } from './store';
import type { Session, User } from './types';

export type SessionState =
  | { status: 'loading' }
  | { status: 'anon' }
  | { status: 'authed'; user: User; /** restored from storage while the server was unreachable */ offline: boolean };

export const session = createStore<SessionState>({ status: 'loading' });

const KEY = 'herald.session';
export const STORAGE_PREFIX = 'herald.';

export const isAdmin = (u: User | null | undefined) => !!u?.roles?.includes('admin');
/** Admins hold every permission; others what their roles grant (as the server checks it). */
export const hasPermission = (u: User | null | undefined, p: string) => isAdmin(u) || !!u?.permissions?.includes(p);

export function currentUser(): User | null {
  const s = session.get();
  return s.status === 'authed' ? s.user : null;
}

function tellServiceWorker(msg: unknown) {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.controller?.postMessage(msg);
  navigator.serviceWorker.ready.then((reg) => reg.active?.postMessage(msg)).catch(() => {});
}

function signedIn(s: Session, offline = false) {
  setCsrfToken(s.csrf_token);
  try {
    localStorage.setItem(KEY, JSON.stringify(s));
  } catch {
    /* storage full or disabled: online use still works */
  }
  tellServiceWorker({ type: 'session', csrf_token: s.csrf_token });
  session.set({ status: 'authed', user: s.user, offline });
}

async function clearLocalData() {
  try {
    for (const k of Object.keys(localStorage)) if (k.startsWith(STORAGE_PREFIX)) localStorage.removeItem(k);
  } catch {
    /* ignore */
  }
  // The service worker's cached API answers belong to this user.
  if ('caches' in self) await caches.delete('herald-api').catch(() => false);
}

function signedOut() {
  setCsrfToken(null);
  enrolRequired.set(false);
  tellServiceWorker({ type: 'session', csrf_token: null });
  void clearLocalData();
  session.set({ status: 'anon' });
}

function saved(): Session | null {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) || 'null') as Session | null;
    return s?.user && s.csrf_token ? s : null;
  } catch {
    return null;
  }
}

/**
 * Two-factor sign-in: true while an admin must turn on TOTP before anything else (HERALD_REQUIRE_2FA); the app
 * then shows only the Security page.
 */
export const enrolRequired = createStore<boolean>(false);

type SignInAnswer = Session & { second_factor?: 'totp' | 'enrol' | null };

function answered(s: SignInAnswer) {
  enrolRequired.set(s.second_factor === 'enrol');
  signedIn(s);
}

export async function restoreSession(): Promise<void> {
  try {
    answered(await api.get<SignInAnswer>('/v1/auth/me'));
  } catch (e) {
    if (e instanceof NetworkError || (e instanceof ApiError && e.status >= 500)) {
      const s = saved();
      if (s) signedIn(s, true);
      else session.set({ status: 'anon' });
    } else {
      signedOut();
    }
  }
}

/** Signs in; answers 'totp' when the password was right and a code from the authenticator app is needed next. */
export async function login(email: string, password: string): Promise<'totp' | null> {
  const s = await api.post<SignInAnswer>('/v1/auth/login', { email, password });
  if (s.second_factor === 'totp') {
    setCsrfToken(s.csrf_token); // the code is a cookie-authenticated write
    return 'totp';
  }
  answered(s);
  return null;
}

/** Sign-in's second step: the current code (or a recovery code). */
export async function verifyTotp(code: string): Promise<void> {
  await api.post('/v1/auth/totp', { code });
  answered(await api.get<SignInAnswer>('/v1/auth/me'));
}

export async function logout(): Promise<void> {
  // This device should stop receiving the user's alerts once they sign out.
  if (pushSupported()) await Promise.race([disablePush().catch(() => undefined), new Promise((r) => setTimeout(r, 3000))]);
  try {
    await api.post('/v1/auth/logout');
  } catch {
    /* signed out locally either way */
  }
  signedOut();
}

/** The server said 401 to an ordinary request: the cookie expired or was revoked. */
export function sessionEnded() {
  if (session.get().status === 'authed') signedOut();
}

// Back online after an offline start: confirm the session is still valid.
addEventListener('online', () => {
  const s = session.get();
  if (s.status === 'authed' && s.offline) void restoreSession();
});
