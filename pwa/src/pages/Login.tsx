import { useState } from 'preact/hooks';
import { ApiError } from '../api';
import { ProblemBox } from '../components/Problem';
import { useTitle } from '../hooks';
import { login } from '../session';

export function LoginPage() {
  useTitle('Sign in');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(email.trim(), password);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const title =
    error instanceof ApiError && error.status === 401
      ? 'Wrong email or password'
      : error instanceof ApiError && error.status === 429
        ? 'Too many attempts'
        : 'Could not sign in';

  return (
    <section class="login" aria-labelledby="login-title">
      <h1 id="login-title">Sign in to Herald</h1>
      <form onSubmit={submit} class="form">
        <div class="field">
          <label for="login-email">Email</label>
          <input
            id="login-email"
            name="email"
            type="email"
            autocomplete="username"
            inputMode="email"
            required
            value={email}
            onInput={(e) => setEmail((e.currentTarget as HTMLInputElement).value)}
          />
        </div>
        <div class="field">
          <label for="login-password">Password</label>
          <input
            id="login-password"
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword((e.currentTarget as HTMLInputElement).value)}
          />
        </div>
        <ProblemBox error={error} title={title} />
        <button type="submit" class="btn primary wide" disabled={busy} aria-busy={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </section>
  );
}
