// A queue card, compact so a phone shows three at once: severity as the left border, the title, ONE state
// ("Needs you", "Ana is on it", "Snoozed until 14:05"), "Escalated to you from Accounting" when it was,
// category · priority · age, the escalation countdown, the SOP's progress ("1/5 done ▸", open on the top
// card), and the one-tap actions. An acknowledgement made offline shows as pending until replayed. Just
// after an action the card holds its place and height (see `holds` in ../queue.ts).
import { useState } from 'preact/hooks';
import { Link } from '../router';
import { useStore } from '../store';
import { holds } from '../queue';
import { ago, clock, useNow } from '../time';
import type { AlertView } from '../types';
import { label } from '../types';
import { AlertActions } from './AlertActions';
import { Countdown } from './Countdown';
import { SopChecklist, sopProgress } from './Sop';

export type CardState = { kind: 'needs' | 'progress' | 'snoozed' | 'pending' | 'resolved' | 'open'; text: string };

/** The one state a card shows. `mine`: on my queue, a triggered alert "needs you". */
export function cardState(a: AlertView, pending: boolean, now: number, mine = true): CardState {
  if (pending) return { kind: 'pending', text: 'Pending' };
  if (a.status === 'resolved') return { kind: 'resolved', text: a.resolved_by ? `Resolved by ${a.resolved_by.name}` : 'Resolved' };
  if (a.status === 'triggered') return mine ? { kind: 'needs', text: 'Needs you' } : { kind: 'open', text: 'Waiting' };
  if (a.snoozed_until && Date.parse(a.snoozed_until) > now) return { kind: 'snoozed', text: `Snoozed until ${clock(a.snoozed_until)}` };
  if (a.assigned_to) return { kind: 'progress', text: `${a.assigned_to.name} is on it` };
  return { kind: 'progress', text: a.acknowledged_by ? `Acknowledged by ${a.acknowledged_by.name}` : 'In progress' };
}

/** "Escalated to you from Accounting" (or without "from" when the first recipients were named people). */
export function escalatedText(a: AlertView): string | null {
  const e = a.escalated_to_you;
  if (!e || a.status === 'resolved') return null;
  return e.from ? `Escalated to you from ${e.from}` : 'Escalated to you';
}

export function AlertCard({ alert, pending, sopOpen: openAtFirst = false, mine = true }: { alert: AlertView; pending: boolean; sopOpen?: boolean; mine?: boolean }) {
  const now = useNow();
  const stored = useStore(sopProgress)[alert.id];
  const progress = stored ?? (alert as AlertView & { sop_progress?: { checked?: number[] } }).sop_progress?.checked;
  const [sopOpen, setSopOpen] = useState(openAtFirst);
  const held = useStore(holds)[alert.id];
  const titleId = `alert-${alert.id}-title`;
  const state = cardState(alert, pending, now, mine);
  const escalated = escalatedText(alert);
  const steps = alert.sop?.steps.length ?? 0;
  return (
    <article
      class={`card compact sev-${alert.severity}${held ? ' held' : ''}`}
      aria-labelledby={titleId}
      data-alert-id={alert.id}
      style={held?.height ? { minHeight: `${held.height}px` } : undefined}
    >
      <header class="card-head">
        <h2 id={titleId} class="card-title">
          <Link href={`/alerts/${alert.id}`}>{alert.title}</Link>
        </h2>
        {/* While held, the action row says the new state (with Undo): said once. */}
        {!held && <span class={`state ${state.kind}`}>{state.text}</span>}
      </header>
      <p class="meta">
        {escalated && (
          <>
            <span class="escalated-to-you">{escalated}</span>
            <span aria-hidden="true"> · </span>
          </>
        )}
        <span>{label(alert.category)}</span>
        <span aria-hidden="true"> · </span>
        <span>
          {label(alert.priority)}
          <span class="sr-only"> priority, {alert.severity} severity</span>
        </span>
        <span aria-hidden="true"> · </span>
        <time dateTime={alert.created_at} title={new Date(alert.created_at).toLocaleString()}>
          {ago(alert.created_at, now)}
        </time>
        {alert.occurrences > 1 && <span> · {alert.occurrences}×</span>}
        {alert.assigned_to && state.kind !== 'progress' && alert.status !== 'resolved' && <span> · {alert.assigned_to.name} is on it</span>}
      </p>
      <Countdown alert={alert} />
      {pending && (
        <p class="pending-note" role="status">
          Acknowledgement pending: it will be sent when you are back online.
        </p>
      )}
      {alert.sop && (
        <details class="sop-box" open={sopOpen} onToggle={(e) => setSopOpen((e.currentTarget as HTMLDetailsElement).open)}>
          <summary>
            {alert.sop.title || 'SOP'}
            {steps > 0 && progress !== undefined && (
              <span class="sop-count">
                {'\u00a0· '}
                {progress.length}/{steps} done
              </span>
            )}
            <span aria-hidden="true"> {sopOpen ? '▾' : '▸'}</span>
          </summary>
          {sopOpen && <SopChecklist alertId={alert.id} sop={alert.sop} />}
        </details>
      )}
      <AlertActions alert={alert} pending={pending} />
    </article>
  );
}
