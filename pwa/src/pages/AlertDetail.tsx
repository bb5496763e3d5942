// /alerts/:id — the alert, its SOP, the actions, and the timeline: who was notified on which channel,
// whether it was delivered or failed, and who acted. Refreshes when the stream reports a change.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import { AlertActions } from '../components/AlertActions';
import { PriorityChip, SeverityChip, StatusChip } from '../components/Chips';
import { Countdown } from '../components/Countdown';
import { ProblemBox } from '../components/Problem';
import { SopChecklist, setProgress } from '../components/Sop';
import { useTitle } from '../hooks';
import { onAlertChange, pendingAcks } from '../queue';
import { onAlert } from '../live';
import { Link } from '../router';
import { useStore } from '../store';
import { ago, clock, useNow } from '../time';
import { CHANNEL_LABELS, label, type AlertDetail, type TimelineEntry } from '../types';

const KIND_TEXT: Record<string, string> = {
  created: 'Created',
  notified: 'Notified',
  delivered: 'Delivered',
  failed: 'Failed',
  escalated: 'Escalated',
  acknowledged: 'Acknowledged',
  snoozed: 'Snoozed',
  reopened: 'Reopened',
  resolved: 'Resolved',
  deduplicated: 'Repeated',
  held: 'Held',
  dropped: 'Not sent',
  digested: 'In digest',
};

const KIND_TONE: Record<string, string> = {
  delivered: 'ok',
  acknowledged: 'ok',
  resolved: 'ok',
  failed: 'bad',
  escalated: 'warn',
  reopened: 'warn',
  held: 'warn',
};

function str(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.map(str).join(', ');
  const s = JSON.stringify(v);
  return s.length > 120 ? s.slice(0, 117) + '…' : s;
}

/** A readable line for a timeline entry's detail (free-form JSON from the server). */
export function describeDetail(detail: unknown, kind = ''): string {
  if (detail === null || detail === undefined) return '';
  if (typeof detail !== 'object' || Array.isArray(detail)) return str(detail);
  const d = { ...(detail as Record<string, unknown>) };
  const parts: string[] = [];
  const take = (k: string) => {
    const v = d[k];
    delete d[k];
    return v;
  };
  const channel = take('channel') ?? take('channel_kind') ?? take('kind');
  const to = take('to') ?? take('recipient') ?? take('user_name') ?? take('user') ?? take('name') ?? take('room');
  const level = take('level');
  const roles = take('roles');
  const status = take('status') ?? take('state');
  const reason = take('error') ?? take('reason') ?? take('message');
  const until = take('until') ?? take('snoozed_until');
  const minutes = take('minutes');
  if (to !== undefined && to !== null && to !== '') parts.push(`to ${str(to)}`);
  if (channel) parts.push(`via ${CHANNEL_LABELS[String(channel)] ?? str(channel)}`);
  if (level !== undefined && level !== null) parts.push(`level ${str(level)}`);
  if (Array.isArray(roles) && roles.length) parts.push(`roles ${roles.map((r) => label(String(r))).join(', ')}`);
  if (status && String(status) !== kind) parts.push(str(status));
  if (minutes !== undefined) parts.push(`for ${str(minutes)} min`);
  if (typeof until === 'string' && !Number.isNaN(Date.parse(until))) parts.push(`until ${clock(until)}`);
  if (reason) parts.push(`(${str(reason)})`);
  for (const [k, v] of Object.entries(d)) if (v !== null && v !== undefined && v !== '') parts.push(`${k.replace(/_/g, ' ')}: ${str(v)}`);
  return parts.join(' ');
}

function TimelineItem({ e, now }: { e: TimelineEntry; now: number }) {
  const text = describeDetail(e.detail, e.kind);
  return (
    <li class={`tl tl-${KIND_TONE[e.kind] ?? 'info'}`}>
      <span class="tl-dot" aria-hidden="true" />
      <div>
        <p class="tl-line">
          <strong>{KIND_TEXT[e.kind] ?? label(e.kind)}</strong>
          {text && <> {text}</>}
          {e.actor?.name && <span class="tl-actor"> by {e.actor.name}</span>}
        </p>
        <p class="tl-time">
          <time dateTime={e.at}>{clock(e.at)}</time> · {ago(e.at, now)}
        </p>
      </div>
    </li>
  );
}

export function AlertDetailPage({ id }: { id: number }) {
  const [alert, setAlert] = useState<AlertDetail | null>(null);
  const [error, setError] = useState<unknown>(null);
  const pending = useStore(pendingAcks)[id] !== undefined;
  const now = useNow();
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useTitle(alert ? alert.title : `Alert ${id}`);

  async function load() {
    try {
      const d = await api.get<AlertDetail>(`/v1/alerts/${id}`);
      setAlert(d);
      setError(null);
      if (d.sop_progress) setProgress(id, d.sop_progress.checked ?? []);
    } catch (e) {
      setError(e);
    }
  }

  useEffect(() => {
    setAlert(null);
    void load();
    const refresh = (a: { id: number }) => {
      if (a.id !== id) return;
      if (timer.current) clearTimeout(timer.current);
      timer.current = setTimeout(() => void load(), 200);
    };
    const offA = onAlert(refresh);
    const offB = onAlertChange((a) => {
      if (a.id !== id) return;
      setAlert((prev) => (prev ? { ...prev, ...a } : prev));
      refresh(a);
    });
    return () => {
      offA();
      offB();
      if (timer.current) clearTimeout(timer.current);
    };
  }, [id]);

  if (error && !alert) {
    return (
      <section class="page">
        <h1>Alert {id}</h1>
        <ProblemBox error={error} title={error instanceof ApiError && error.status === 404 ? 'No such alert' : 'Could not load the alert'} />
        <p>
          <Link href="/">Back to my queue</Link>
        </p>
      </section>
    );
  }
  if (!alert) {
    return (
      <section class="page">
        <h1>Alert {id}</h1>
        <p class="loading" role="status">
          Loading…
        </p>
      </section>
    );
  }

  const meta: Array<[string, string]> = [
    ['Category', `${label(alert.category)} / ${alert.type}`],
    ['Created', `${clock(alert.created_at)} (${ago(alert.created_at, now)})`],
  ];
  if (alert.source) meta.push(['Source', alert.source]);
  if (alert.entity) meta.push(['About', `${alert.entity.name ?? alert.entity.id} (${alert.entity.kind})`]);
  if (alert.occurrences > 1) meta.push(['Occurrences', String(alert.occurrences)]);
  if (alert.acknowledged_at)
    meta.push(['Acknowledged', `${clock(alert.acknowledged_at)}${alert.acknowledged_by ? ` by ${alert.acknowledged_by.name}` : ''}`]);
  if (alert.snoozed_until && Date.parse(alert.snoozed_until) > now) meta.push(['Snoozed until', clock(alert.snoozed_until)]);
  if (alert.resolved_at) meta.push(['Resolved', `${clock(alert.resolved_at)}${alert.resolved_by ? ` by ${alert.resolved_by.name}` : ''}`]);
  for (const [k, v] of Object.entries(alert.metadata ?? {})) meta.push([k.replace(/_/g, ' '), str(v)]);

  return (
    <article class={`page detail sev-${alert.severity}`} aria-labelledby="alert-title">
      <p class="back">
        <Link href="/">← My queue</Link>
      </p>
      <h1 id="alert-title">{alert.title}</h1>
      <div class="chips">
        <SeverityChip severity={alert.severity} />
        <PriorityChip priority={alert.priority} />
        <StatusChip status={alert.status} pending={pending} />
      </div>
      <Countdown alert={alert} />
      {pending && (
        <p class="pending-note" role="status">
          Acknowledgement pending: it will be sent when you are back online.
        </p>
      )}
      {alert.body && <p class="body">{alert.body}</p>}
      <AlertActions alert={alert} pending={pending} />
      <dl class="meta-list">
        {meta.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      {alert.sop && (
        <section aria-labelledby="sop-title" class="panel">
          <h2 id="sop-title">SOP: {alert.sop.title}</h2>
          <SopChecklist alertId={alert.id} sop={alert.sop} readOnly={alert.status === 'resolved'} ticks={alert.sop_progress?.ticks} />
        </section>
      )}
      <section aria-labelledby="timeline-title" class="panel">
        <h2 id="timeline-title">Timeline</h2>
        {alert.timeline?.length ? (
          <ol class="timeline">
            {alert.timeline.map((e) => (
              <TimelineItem key={e.id} e={e} now={now} />
            ))}
          </ol>
        ) : (
          <p>No events yet.</p>
        )}
      </section>
    </article>
  );
}
