import { useEffect, useState } from 'preact/hooks';
import { ProblemBox } from '../components/Problem';
import { useTitle } from '../hooks';
import { disablePush, enablePush, pushState, type PushState } from '../push';
import { currentUser, logout } from '../session';
import { installPrompt } from '../status';
import { useStore } from '../store';
import { label } from '../types';
import { lazy } from '../components/Lazy';
import { Link } from '../router';

// Loaded on demand: keeps the first screen's bundle within budget.
const PreferencesPanel = lazy(() => import('./Preferences'));

const PUSH_TEXT: Record<PushState, string> = {
  unsupported: 'This browser cannot receive push notifications. On iPhone, add Herald to the home screen first.',
  denied: 'Notifications are blocked for this site. Allow them in the browser settings, then come back.',
  off: 'Push notifications are off on this device.',
  on: 'Push notifications are on for this device.',
};

export function SettingsPage() {
  useTitle('Settings');
  const user = currentUser();
  const [push, setPush] = useState<PushState | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const install = useStore(installPrompt);

  useEffect(() => {
    pushState().then(setPush, () => setPush('off'));
  }, []);

  async function toggle(on: boolean) {
    setBusy(true);
    setError(null);
    try {
      setPush(await (on ? enablePush() : disablePush()));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="page" aria-labelledby="settings-title">
      <h1 id="settings-title">Settings</h1>
      {user && (
        <section class="panel" aria-labelledby="account-title">
          <h2 id="account-title">Account</h2>
          <dl class="meta-list">
            <div>
              <dt>Name</dt>
              <dd>{user.name}</dd>
            </div>
            <div>
              <dt>Email</dt>
              <dd>{user.email}</dd>
            </div>
            <div>
              <dt>Roles</dt>
              <dd>{user.roles.map(label).join(', ') || 'none'}</dd>
            </div>
          </dl>
        </section>
      )}
      {user && <PreferencesPanel />}
      {user && (
        <section class="panel" aria-labelledby="security-link-title">
          <h2 id="security-link-title">Security</h2>
          <p>Where you are signed in, and two-factor sign-in.</p>
          <Link href="/settings/security" class="btn">Sessions and two-factor sign-in</Link>
        </section>
      )}
      <section class="panel" aria-labelledby="push-title">
        <h2 id="push-title">Push notifications</h2>
        <p role="status">{push ? PUSH_TEXT[push] : 'Checking…'}</p>
        {push === 'off' && (
          <button type="button" class="btn primary" disabled={busy} onClick={() => toggle(true)}>
            Turn on push notifications
          </button>
        )}
        {push === 'on' && (
          <button type="button" class="btn" disabled={busy} onClick={() => toggle(false)}>
            Turn off push notifications
          </button>
        )}
        <ProblemBox error={error} title="Push could not be changed" />
      </section>
      {install && (
        <section class="panel" aria-labelledby="install-title">
          <h2 id="install-title">Install</h2>
          <p>Add Herald to your home screen to open it like an app, even offline.</p>
          <button
            type="button"
            class="btn"
            onClick={async () => {
              await install.prompt();
              installPrompt.set(null);
            }}
          >
            Install Herald
          </button>
        </section>
      )}
      <section class="panel" aria-labelledby="session-title">
        <h2 id="session-title">Session</h2>
        <button type="button" class="btn danger" onClick={() => void logout()}>
          Sign out
        </button>
      </section>
    </section>
  );
}
