// One-tap Acknowledge, Resolve and Snooze (1 h). Accessible names are exactly the visible words, so they
// are stable for people using voice control and for tests.
import { useState } from 'preact/hooks';
import { act, type Action } from '../queue';
import type { AlertView } from '../types';
import { ProblemBox } from './Problem';

export function AlertActions({ alert, pending }: { alert: AlertView; pending: boolean }) {
  const [busy, setBusy] = useState<Action | null>(null);
  const [error, setError] = useState<unknown>(null);

  async function run(action: Action) {
    setBusy(action);
    setError(null);
    try {
      await act(alert.id, action);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  }

  if (alert.status === 'resolved') return null;
  return (
    <div class="actions-wrap">
      <div class="actions" role="group" aria-label="Actions">
        {alert.status === 'triggered' && !pending && (
          <button type="button" class="btn primary" disabled={!!busy} aria-busy={busy === 'acknowledge'} onClick={() => run('acknowledge')}>
            Acknowledge
          </button>
        )}
        <button type="button" class="btn" disabled={!!busy} aria-busy={busy === 'resolve'} onClick={() => run('resolve')}>
          Resolve
        </button>
        <button type="button" class="btn" disabled={!!busy} aria-busy={busy === 'snooze'} onClick={() => run('snooze')}>
          Snooze 1 h
        </button>
      </div>
      <ProblemBox error={error} title="That did not work" />
    </div>
  );
}
