import { useState } from 'preact/hooks';
import { ApiError } from '../api';
import { ProblemBox } from '../components/Problem';
import { useTitle } from '../hooks';
import { login } from '../session';

interface FieldProps {
  id: string;
  name: string;
  type: string;
  label: string;
  autocomplete: string;
  inputMode?: 'email';
  value: string;
  set: (v: string) => void;
}

function Field({ id, name, type, label, autocomplete, inputMode, value, set }: FieldProps) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input
        id={id}
        name={name}
        type={type}
        autocomplete={autocomplete}
        inputMode={inputMode}
        required
        value={value}
        onInput={(e) => set((e.currentTarget as HTMLInputElement).value)}
      />
    </div>
  );
}

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
        <Field id="login-email" name="email" type="email" label="Email" autocomplete="username" inputMode="email" value={email} set={setEmail} />
        <Field id="login-password" name="password" type="password" label="Password" autocomplete="current-password" value={password} set={setPassword} />
        <ProblemBox error={error} title={title} />
        <button type="submit" class="btn primary wide" disabled={busy} aria-busy={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </section>
  );
}
