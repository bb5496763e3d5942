// A queue card: severity colour, title, category, age, the escalation countdown, who acted, the SOP
// checklist, who is on it, and the one-tap actions. An acknowledgement made offline shows as pending until
// replayed. Just after an action the card holds its place and height (see `holds` in ../queue.ts).
import { useState } from 'preact/hooks';
import { Link } from '../router';
import { useStore } from '../store';
import { holds } from '../queue';
import { ago, clock, useNow } from '../time';
import type { AlertView } from '../types';
import { label } from '../types';
import { AlertActions } from './AlertActions';
import { SeverityChip, PriorityChip, StatusChip } from './Chips';
import { Countdown } from './Countdown';
import { SopChecklist, sopProgress, sopSummary } from './Sop';

export function AlertCard({ alert, pending }: { alert: AlertView; pending: boolean }) {
  const now = useNow();
  const progress = useStore(sopProgress)[alert.id];
  const [sopOpen, setSopOpen] = useState(false);
  const held = useStore(holds)[alert.id];
  const titleId = `alert-${alert.id}-title`;
  return (
    <article
      class={`card sev-${alert.severity}${held ? ' held' : ''}`}
      aria-labelledby={titleId}
      data-alert-id={alert.id}
      style={held?.height ? { minHeight: `${held.height}px` } : undefined}
    >
      <header class="card-head">
        <h2 id={titleId} class="card-title">
          <Link href={`/alerts/${alert.id}`}>{alert.title}</Link>
        </h2>
        <div class="chips">
          <SeverityChip severity={alert.severity} />
          <PriorityChip priority={alert.priority} />
          <StatusChip status={alert.status} pending={pending} />
        </div>
      </header>
      <p class="meta">
        <span>{label(alert.category)}</span>
        <span aria-hidden="true"> · </span>
        <time dateTime={alert.created_at} title={new Date(alert.created_at).toLocaleString()}>
          {ago(alert.created_at, now)}
        </time>
        {alert.occurrences > 1 && (
          <>
            <span aria-hidden="true"> · </span>
            <span>{alert.occurrences}× occurred</span>
          </>
        )}
      </p>
      <Countdown alert={alert} />
      {pending && (
        <p class="pending-note" role="status">
          Acknowledgement pending: it will be sent when you are back online.
        </p>
      )}
      {alert.assigned_to && alert.status !== 'resolved' && <p class="assignee">{alert.assigned_to.name} is on it</p>}
      {alert.status === 'acknowledged' && !pending && !held && (
        <p class="acted">
          {alert.snoozed_until && Date.parse(alert.snoozed_until) > now
            ? `Snoozed until ${clock(alert.snoozed_until)}`
            : 'Acknowledged'}
          {alert.acknowledged_by && ` by ${alert.acknowledged_by.name}`}
          {alert.acknowledged_at && `, ${ago(alert.acknowledged_at, now)}`}
        </p>
      )}
      {alert.sop && (
        <details class="sop-box" onToggle={(e) => setSopOpen((e.currentTarget as HTMLDetailsElement).open)}>
          <summary>SOP: {sopSummary(alert.sop, progress)}</summary>
          {sopOpen && <SopChecklist alertId={alert.id} sop={alert.sop} />}
        </details>
      )}
      <AlertActions alert={alert} pending={pending} />
    </article>
  );
}
