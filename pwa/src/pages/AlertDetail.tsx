// /alerts/:id — the alert, its SOP, the actions, who it is assigned to (a picker of people by name), a
// note box, and the timeline: who was notified on which channel, whether it was delivered or failed, who
// acted, notes and assignments with who and when. Refreshes when the stream reports a change.
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
import { CHANNEL_LABELS, label, type AlertDetail, type TimelineEntry, type User } from '../types';

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
  noted: 'Note',
  assigned: 'Assigned',
  undone: 'Undone',
  held: 'Held',
  dropped: 'Not sent',
  digested: 'In digest',
  escalation_paused: 'Escalation paused',
};

/** What an undo took back, in words. */
const UNDID: Record<string, string> = { acknowledged: 'the acknowledgement', resolved: 'the resolve', snoozed: 'the snooze' };

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
  // Bookkeeping for undo, not for people.
  delete d.before;
  delete d.timeline_id;
  if (kind === 'noted') return '';
  if (kind === 'assigned') {
    const to = d.to as { name?: string } | null | undefined;
    return to?.name ? `to ${to.name}` : '(nobody now)';
  }
  if (kind === 'undone') return typeof d.undid === 'string' ? UNDID[d.undid] ?? d.undid : '';
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
        {e.kind === 'noted' && typeof (e.detail as { text?: unknown })?.text === 'string' && (
          <p class="tl-note">{(e.detail as { text: string }).text}</p>
        )}
        <p class="tl-time">
          <time dateTime={e.at}>{clock(e.at)}</time> · {ago(e.at, now)}
        </p>
      </div>
    </li>
  );
}

/** People to assign, by name (loaded once per page view). */
function useUsers(): User[] | null {
  const [users, setUsers] = useState<User[] | null>(null);
  useEffect(() => {
    api
      .get<{ items: User[] }>('/v1/users')
      .then((r) => setUsers([...r.items].sort((a, b) => a.name.localeCompare(b.name))))
      .catch(() => setUsers([]));
  }, []);
  return users;
}

function AssignPicker({ alert, onDone }: { alert: AlertDetail; onDone: () => void }) {
  const users = useUsers();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const current = alert.assigned_to?.id ?? '';
  async function pick(value: string) {
    setBusy(true);
    setError(null);
    try {
      await api.post(`/v1/alerts/${alert.id}/assign`, { user_id: value === '' ? null : Number(value) });
      onDone();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <div class="assign-form">
      <label for="assignee">Assigned to</label>
      <select id="assignee" disabled={busy || !users || alert.status === 'resolved'} value={String(current)} onChange={(e) => void pick((e.currentTarget as HTMLSelectElement).value)}>
        <option value="">Nobody</option>
        {alert.assigned_to && !users?.some((u) => u.id === alert.assigned_to!.id) && <option value={String(alert.assigned_to.id)}>{alert.assigned_to.name}</option>}
        {(users ?? []).map((u) => (
          <option key={u.id} value={String(u.id)}>
            {u.name}
          </option>
        ))}
      </select>
      <ProblemBox error={error} title="Could not assign" />
    </div>
  );
}

const NOTE_MAX = 4000;

function NoteBox({ alertId, onDone }: { alertId: number; onDone: () => void }) {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const length = [...text].length;
  async function submit(e: Event) {
    e.preventDefault();
    if (!text.trim() || length > NOTE_MAX) return;
    setBusy(true);
    setError(null);
    setSaved(null);
    try {
      await api.post(`/v1/alerts/${alertId}/notes`, { text });
      setText('');
      setSaved('Note added. It is shown in the alert’s Slack and Discord threads too.');
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <form class="note-form" onSubmit={submit}>
      <label for="note-text">Add a note</label>
      <textarea id="note-text" value={text} maxLength={NOTE_MAX * 2} onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)} />
      <p class="toolbar">
        <button type="submit" class="btn" disabled={busy || !text.trim() || length > NOTE_MAX} aria-busy={busy}>
          Add note
        </button>
        {length > NOTE_MAX * 0.9 && (
          <span class={length > NOTE_MAX ? 'error' : 'sub'}>
            {length}/{NOTE_MAX}
          </span>
        )}
      </p>
      {saved && <p role="status">{saved}</p>}
      <ProblemBox error={error} title="Could not add the note" />
    </form>
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
  if (alert.assigned_to && alert.status !== 'resolved') meta.push(['Assigned', `${alert.assigned_to.name} is on it`]);
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
      <section aria-labelledby="together-title" class="panel">
        <h2 id="together-title">Working on it</h2>
        <AssignPicker alert={alert} onDone={() => void load()} />
        <NoteBox alertId={alert.id} onDone={() => void load()} />
      </section>
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
