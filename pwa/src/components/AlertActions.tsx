// One-tap Acknowledge, Resolve and Snooze (1 h). Accessible names are exactly the visible words, so they
// are stable for people using voice control and for tests.
//
// Right after an action the row becomes "Acknowledged by Ana" with an Undo button for a few seconds (see
// `holds` in ../queue.ts), in the same place and the same height; Undo sits at the far end of the row, away
// from where Acknowledge was, so a second tap of the same finger does not undo.
import { useState } from 'preact/hooks';
import { act, holds, undoAct, type Action, type Hold } from '../queue';
import { useStore } from '../store';
import { clock } from '../time';
import type { AlertView } from '../types';
import { ProblemBox } from './Problem';

/** "Acknowledged by Ana", "Resolved by Ana", "Snoozed until 14:05": the new state, said once. */
export function doneText(alert: AlertView, h: Hold): string {
  if (alert.status === 'resolved') return `Resolved${alert.resolved_by ? ` by ${alert.resolved_by.name}` : ''}`;
  if (h.action === 'snooze' && alert.snoozed_until) return `Snoozed until ${clock(alert.snoozed_until)}`;
  if (alert.status === 'acknowledged') return `Acknowledged${alert.acknowledged_by ? ` by ${alert.acknowledged_by.name}` : ''}`;
  return label(alert.status);
}
const label = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export function AlertActions({ alert, pending }: { alert: AlertView; pending: boolean }) {
  const [busy, setBusy] = useState<Action | 'undo' | null>(null);
  const [error, setError] = useState<unknown>(null);
  const held = useStore(holds)[alert.id];

  async function run(action: Action, e: Event) {
    setBusy(action);
    setError(null);
    const card = (e.currentTarget as HTMLElement | null)?.closest('article');
    try {
      await act(alert.id, action, { height: card ? card.getBoundingClientRect().height : null });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  }

  async function undo() {
    setBusy('undo');
    setError(null);
    try {
      await undoAct(alert.id);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  }

  if (held) {
    return (
      <div class="actions-wrap">
        <div class="actions held" role="group" aria-label="Actions">
          <p class="done" role="status">
            {doneText(alert, held)}
          </p>
          <button type="button" class="btn undo" disabled={busy === 'undo'} aria-busy={busy === 'undo'} onClick={undo}>
            Undo
          </button>
        </div>
        <ProblemBox error={error} title="Could not undo" />
      </div>
    );
  }
  if (alert.status === 'resolved') return <ProblemBox error={error} title="Could not undo" />;
  return (
    <div class="actions-wrap">
      <div class="actions" role="group" aria-label="Actions">
        {alert.status === 'triggered' && !pending && (
          <button type="button" class="btn primary" disabled={!!busy} aria-busy={busy === 'acknowledge'} onClick={(e) => run('acknowledge', e)}>
            Acknowledge
          </button>
        )}
        <button type="button" class="btn" disabled={!!busy} aria-busy={busy === 'resolve'} onClick={(e) => run('resolve', e)}>
          Resolve
        </button>
        <button type="button" class="btn" disabled={!!busy} aria-busy={busy === 'snooze'} onClick={(e) => run('snooze', e)}>
          Snooze 1 h
        </button>
      </div>
      <ProblemBox error={error} title="That did not work" />
    </div>
  );
}
