// /settings/security — the signed-in person's own security: the sessions signed in as them (device, address,
// last use; end one or all the others) and two-factor sign-in (TOTP): enrol by scanning a QR code, confirm with a
// code, keep the recovery codes shown once; turn it off with a code. An admin who must enrol (HERALD_REQUIRE_2FA)
// lands here until it is on.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { ProblemBox } from '../components/Problem';
import { useAction, useTitle } from '../hooks';
import { enrolRequired } from '../session';
import { useStore } from '../store';
import { Link } from '../router';

interface SessionRow { id: number; created_at: string; last_seen_at: string; expires_at: string; user_agent: string | null; address: string | null; current: boolean }
interface TotpStatus { enabled: boolean; enabled_at: string | null; recovery_codes_left: number; required: boolean }
interface Enrolment { secret: string; otpauth_uri: string; qr_svg: string }

const when = (iso: string) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** "Chrome on Android" from a user agent, or the agent itself when nothing is recognised. */
export function deviceName(ua: string | null): string {
  if (!ua) return 'Unknown device';
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrome\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : null;
  const os = /iPhone|iPad/.test(ua) ? 'iOS' : /Android/.test(ua) ? 'Android' : /Windows/.test(ua) ? 'Windows' : /Mac OS X/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : null;
  return browser && os ? `${browser} on ${os}` : browser ?? os ?? ua.slice(0, 60);
}

function Sessions() {
  const [items, setItems] = useState<SessionRow[] | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const { busy, error, run } = useAction();
  const [done, setDone] = useState('');
  const load = () => api.get<{ items: SessionRow[] }>('/v1/me/sessions').then((r) => setItems(r.items), setLoadError);
  useEffect(() => { void load(); }, []);

  async function end(s: SessionRow) {
    setDone('');
    await run(async () => {
      await api.del(`/v1/me/sessions/${s.id}`);
      setDone(`Signed out ${deviceName(s.user_agent)}.`);
      await load();
    });
  }
  async function endOthers() {
    setDone('');
    await run(async () => {
      const r = await api.del<{ revoked: number }>('/v1/me/sessions');
      setDone(r.revoked === 1 ? 'Signed out 1 other session.' : `Signed out ${r.revoked} other sessions.`);
      await load();
    });
  }

  return (
    <section class="panel" aria-labelledby="sessions-title">
      <h2 id="sessions-title">Where you are signed in</h2>
      <ProblemBox error={loadError} title="Sessions could not be loaded" />
      {!items && !loadError && <p class="loading" role="status">Loading…</p>}
      {items && (
        <ul class="cards" aria-label="Your sessions">
          {items.map((s) => (
            <li class="card" key={s.id} data-testid="session">
              <p class="card-title">
                {deviceName(s.user_agent)} {s.current && <span class="chip">This device</span>}
              </p>
              <p class="meta">
                From {s.address ?? 'an unknown address'} · signed in {when(s.created_at)} · last used {when(s.last_seen_at)}
              </p>
              {!s.current && (
                <div class="actions">
                  <button type="button" class="btn danger" disabled={busy} onClick={() => void end(s)}
                    aria-label={`Sign out ${deviceName(s.user_agent)} (signed in ${when(s.created_at)})`}>
                    Sign out
                  </button>
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      {items && items.some((s) => !s.current) && (
        <div class="actions">
          <button type="button" class="btn" disabled={busy} onClick={() => void endOthers()}>
            Sign out everywhere else
          </button>
        </div>
      )}
      <p role="status">{done}</p>
      <ProblemBox error={error} title="Could not sign out that session" />
    </section>
  );
}

function TwoFactor() {
  const [status, setStatus] = useState<TotpStatus | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [enrolment, setEnrolment] = useState<Enrolment | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [code, setCode] = useState('');
  const [offCode, setOffCode] = useState('');
  const { busy, error, run } = useAction();
  const load = () => api.get<TotpStatus>('/v1/me/totp').then(setStatus, setLoadError);
  useEffect(() => { void load(); }, []);

  const start = () => run(async () => { setCodes(null); setEnrolment(await api.post<Enrolment>('/v1/me/totp/enrol')); });
  async function confirm(e: Event) {
    e.preventDefault();
    await run(async () => {
      const r = await api.post<{ recovery_codes: string[] }>('/v1/me/totp/confirm', { code: code.trim() });
      setCodes(r.recovery_codes);
      setEnrolment(null);
      setCode('');
      enrolRequired.set(false);
      await load();
    });
  }
  async function turnOff(e: Event) {
    e.preventDefault();
    await run(async () => {
      await api.post('/v1/me/totp/disable', { code: offCode.trim() });
      setOffCode('');
      setCodes(null);
      await load();
    });
  }
  const qr = enrolment ? `data:image/svg+xml;base64,${btoa(enrolment.qr_svg)}` : '';

  return (
    <section class="panel" aria-labelledby="totp-title">
      <h2 id="totp-title">Two-factor sign-in</h2>
      <ProblemBox error={loadError} title="Two-factor status could not be loaded" />
      {status && (
        <p role="status" data-testid="totp-status">
          {status.enabled ? `On since ${when(status.enabled_at!)}; ${status.recovery_codes_left} recovery codes left.` : 'Off: signing in needs only your password.'}
          {status.required && !status.enabled && ' Required for admins here: turn it on to continue.'}
        </p>
      )}
      {codes && (
        <div class="notice" data-testid="recovery-codes">
          <p><strong>Save these recovery codes now.</strong> Each signs you in once without the app; they are shown only this once.</p>
          <ul class="import-list">{codes.map((c) => <li key={c}><code class="secret">{c}</code></li>)}</ul>
        </div>
      )}
      {status && !status.enabled && !enrolment && (
        <button type="button" class="btn primary" disabled={busy} onClick={() => void start()}>
          Set up an authenticator app
        </button>
      )}
      {enrolment && (
        <form class="form" onSubmit={confirm}>
          <p>Scan this code with an authenticator app (or enter the key by hand), then type the 6-digit code it shows.</p>
          <img src={qr} width={200} height={200} alt="QR code for your authenticator app" />
          <p class="hint">
            Key: <code class="secret" data-testid="totp-secret">{enrolment.secret}</code>
          </p>
          <div class="field">
            <label for="totp-code">Code from the app</label>
            <input id="totp-code" inputMode="numeric" autocomplete="one-time-code" required value={code}
              onInput={(e) => setCode((e.currentTarget as HTMLInputElement).value)} />
          </div>
          <button type="submit" class="btn primary" disabled={busy}>Turn on two-factor sign-in</button>
        </form>
      )}
      {status?.enabled && !status.required && (
        <form class="form" onSubmit={turnOff}>
          <div class="field">
            <label for="totp-off-code">Code from the app, or a recovery code</label>
            <input id="totp-off-code" autocomplete="one-time-code" required value={offCode}
              onInput={(e) => setOffCode((e.currentTarget as HTMLInputElement).value)} />
          </div>
          <button type="submit" class="btn danger" disabled={busy}>Turn off two-factor sign-in</button>
        </form>
      )}
      <ProblemBox error={error} title="Two-factor sign-in could not be changed" />
    </section>
  );
}

export default function SecurityPage() {
  useTitle('Security');
  const mustEnrol = useStore(enrolRequired);
  return (
    <section class="page" aria-labelledby="security-title">
      {!mustEnrol && <p class="back"><Link href="/settings">← Settings</Link></p>}
      <h1 id="security-title">Security</h1>
      {mustEnrol && (
        <p class="notice" role="alert">
          Admins must use two-factor sign-in here. Set it up below to continue.
        </p>
      )}
      <TwoFactor />
      {!mustEnrol && <Sessions />}
    </section>
  );
}
