import { useState } from 'preact/hooks';
import { ApiError } from '../api';
import { ProblemBox } from '../components/Problem';
import { useTitle } from '../hooks';
import { login, verifyTotp } from '../session';

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
  const [step, setStep] = useState<'password' | 'totp'>('password');
  const [code, setCode] = useState('');

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (step === 'totp') await verifyTotp(code.trim());
      else if ((await login(email.trim(), password)) === 'totp') setStep('totp');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const title =
    error instanceof ApiError && error.status === 401
      ? step === 'totp' ? 'Wrong or expired code' : 'Wrong email or password'
      : error instanceof ApiError && error.status === 429
        ? 'Too many attempts'
        : 'Could not sign in';

  return (
    <section class="login" aria-labelledby="login-title">
      <h1 id="login-title">Sign in to Herald</h1>
      {step === 'totp' && (
        <form onSubmit={submit} class="form" aria-describedby="totp-hint">
          <p id="totp-hint">Enter the 6-digit code from your authenticator app, or one of your recovery codes.</p>
          <div class="field">
            <label for="login-code">Code</label>
            <input id="login-code" name="code" type="text" inputMode="numeric" autocomplete="one-time-code" required autoFocus
              value={code} onInput={(e) => setCode((e.currentTarget as HTMLInputElement).value)} />
          </div>
          <ProblemBox error={error} title={title} />
          <button type="submit" class="btn primary wide" disabled={busy} aria-busy={busy}>
            {busy ? 'Checking…' : 'Verify'}
          </button>
          <button type="button" class="btn wide" onClick={() => { setStep('password'); setCode(''); setError(null); }}>
            Start again
          </button>
        </form>
      )}
      {step === 'password' && <form onSubmit={submit} class="form">
        <Field id="login-email" name="email" type="email" label="Email" autocomplete="username" inputMode="email" value={email} set={setEmail} />
        <Field id="login-password" name="password" type="password" label="Password" autocomplete="current-password" value={password} set={setPassword} />
        <ProblemBox error={error} title={title} />
        <button type="submit" class="btn primary wide" disabled={busy} aria-busy={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>}
    </section>
  );
}
