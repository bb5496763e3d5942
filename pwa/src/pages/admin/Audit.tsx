// /audit — the audit trail (GET /v1/audit): filters by actor, action, entity and time, newest first with
// "Show more" (cursor paging), each entry's change as a field-by-field diff of before and after, and a link
// to the same selection as CSV (GET /v1/audit/export, itself audited).
import { useEffect, useState } from 'preact/hooks';
import { api } from '../../api';
import { ProblemBox } from '../../components/Problem';
import { useTitle } from '../../hooks';
import { navigate, useRoute } from '../../router';

export interface AuditItem {
  id: number;
  at: string;
  actor: { kind: string; id: string | null; name: string };
  action: string;
  entity: { kind: string; id: string | null; label: string | null };
  before: unknown;
  after: unknown;
  ip: string | null;
}

const FILTERS = ['actor', 'action', 'entity', 'from', 'to'] as const;
type Filters = Record<(typeof FILTERS)[number], string>;

/** One changed leaf: its path (`escalation.steps.0.after_minutes`), and what it was and became. */
export interface DiffLine {
  path: string;
  before: unknown;
  after: unknown;
  change: 'added' | 'removed' | 'changed';
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object';

/** The leaves that differ between two JSON values (arrays compared by index), in a stable order. */
export function diff(before: unknown, after: unknown, path = ''): DiffLine[] {
  if (isObject(before) && isObject(after) && Array.isArray(before) === Array.isArray(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((k) => {
      const p = path ? `${path}.${k}` : k;
      if (!(k in before)) return [{ path: p, before: undefined, after: after[k], change: 'added' as const }];
      if (!(k in after)) return [{ path: p, before: before[k], after: undefined, change: 'removed' as const }];
      return diff(before[k], after[k], p);
    });
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  const change = before === undefined || before === null ? 'added' : after === undefined || after === null ? 'removed' : 'changed';
  return [{ path: path || '(value)', before, after, change }];
}

const show = (v: unknown) => (v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v));
const when = (iso: string) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const CHANGE_TEXT = { added: 'Added', removed: 'Removed', changed: 'Changed' } as const;

/** `datetime-local` value ↔ an ISO instant with offset (the API needs the offset). */
const toIso = (local: string) => (local ? new Date(local).toISOString() : '');
const toLocal = (iso: string) => {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
};

function queryOf(f: Filters, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams();
  for (const k of FILTERS) if (f[k].trim()) q.set(k, f[k].trim());
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

function DiffView({ item }: { item: AuditItem }) {
  // A creation (nothing before) lists each field as added, a deletion each as removed.
  const empty = (other: unknown) => (Array.isArray(other) ? [] : isObject(other) ? {} : null);
  const lines = diff(item.before ?? empty(item.after), item.after ?? empty(item.before));
  if (item.before === null && item.after === null) return <p class="hint">Nothing changed: this entry records an event.</p>;
  if (!lines.length) return <p class="hint">No field changed.</p>;
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label={`Changes in entry ${item.id}`}>
      <table class="table diff">
        <caption class="sr-only">What changed: each field, its value before and after</caption>
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">Before</th>
            <th scope="col">After</th>
          </tr>
        </thead>
        <tbody>
          {lines.map((l) => (
            <tr key={l.path} class={`diff-${l.change}`}>
              <th scope="row">
                <code>{l.path}</code>
                <span class="diff-kind">{CHANGE_TEXT[l.change]}</span>
              </th>
              <td class="diff-before">{show(l.before)}</td>
              <td class="diff-after">{show(l.after)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Entry({ item }: { item: AuditItem }) {
  const [open, setOpen] = useState(false);
  const target = [item.entity.kind, item.entity.label ?? item.entity.id].filter(Boolean).join(' ');
  return (
    <li class="card audit-entry">
      <div class="card-head">
        <h2 class="card-title">
          <code>{item.action}</code> <span class="audit-target">{target}</span>
        </h2>
        <p class="meta">
          <time dateTime={item.at}>{when(item.at)}</time> · {item.actor.name}
          {item.actor.kind !== 'user' && ` (${item.actor.kind.replace('_', ' ')})`}
          {item.ip && ` · from ${item.ip}`}
        </p>
      </div>
      <button type="button" class="btn small" aria-expanded={open} aria-controls={`audit-diff-${item.id}`} onClick={() => setOpen(!open)}>
        {open ? 'Hide changes' : 'Show changes'}
      </button>
      <div id={`audit-diff-${item.id}`} hidden={!open}>
        {open && <DiffView item={item} />}
      </div>
    </li>
  );
}

export default function AuditPage() {
  useTitle('Audit');
  const { query } = useRoute();
  const applied: Filters = Object.fromEntries(FILTERS.map((k) => [k, query.get(k) ?? ''])) as Filters;
  const appliedKey = queryOf(applied);
  const [form, setForm] = useState<Filters>(applied);
  const [items, setItems] = useState<AuditItem[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);

  async function load(cursor: string | null) {
    setLoading(true);
    setError(null);
    try {
      const r = await api.get<{ items: AuditItem[]; next_cursor: string | null }>(`/v1/audit${queryOf(applied, cursor ? { cursor } : {})}`);
      setItems((prev) => (cursor ? [...(prev ?? []), ...r.items] : r.items));
      setNext(r.next_cursor);
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  }

  useEffect(() => {
    setForm(applied);
    setItems(null);
    void load(null);
  }, [appliedKey]);

  const set = (k: keyof Filters) => (e: Event) => setForm((f) => ({ ...f, [k]: (e.currentTarget as HTMLInputElement).value }));

  function apply(e: Event) {
    e.preventDefault();
    navigate(`/audit${queryOf(form)}`);
  }

  return (
    <section class="page" aria-labelledby="audit-title">
      <div class="page-head">
        <h1 id="audit-title">Audit</h1>
        <a class="btn small" href={`/v1/audit/export${queryOf(applied, { format: 'csv' })}`} download>
          Export CSV
        </a>
      </div>
      <p class="sub">Every configuration change and security event: who, from where, and what changed.</p>
      <form class="filters audit-filters" onSubmit={apply} aria-label="Filter the audit trail">
        <div class="row">
          <div class="field">
            <label for="audit-actor">Actor</label>
            <input id="audit-actor" value={form.actor} onInput={set('actor')} placeholder="name, user:12, api_key:3" autoComplete="off" />
          </div>
          <div class="field">
            <label for="audit-action">Action</label>
            <input id="audit-action" value={form.action} onInput={set('action')} placeholder="rule.updated, auth.*" autoComplete="off" />
          </div>
          <div class="field">
            <label for="audit-entity">Entity</label>
            <input id="audit-entity" value={form.entity} onInput={set('entity')} placeholder="rule or rule:12" autoComplete="off" />
          </div>
          <div class="field">
            <label for="audit-from">From</label>
            <input id="audit-from" type="datetime-local" value={toLocal(form.from)} onInput={(e) => setForm((f) => ({ ...f, from: toIso(e.currentTarget.value) }))} />
          </div>
          <div class="field">
            <label for="audit-to">To</label>
            <input id="audit-to" type="datetime-local" value={toLocal(form.to)} onInput={(e) => setForm((f) => ({ ...f, to: toIso(e.currentTarget.value) }))} />
          </div>
        </div>
        <div class="toolbar">
          <button type="submit" class="btn primary">
            Apply filters
          </button>
          {appliedKey && (
            <button type="button" class="btn ghost" onClick={() => navigate('/audit')}>
              Clear
            </button>
          )}
        </div>
      </form>
      <ProblemBox error={error} title="The audit trail could not be loaded" />
      {!items && !error && (
        <p class="loading" role="status">
          Loading…
        </p>
      )}
      {items && items.length === 0 && <p role="status">No entries match.</p>}
      {items && items.length > 0 && (
        <ol class="cards audit-list" aria-label="Audit entries, newest first">
          {items.map((i) => (
            <Entry key={i.id} item={i} />
          ))}
        </ol>
      )}
      {next && (
        <button type="button" class="btn wide" disabled={loading} onClick={() => load(next)}>
          {loading ? 'Loading…' : 'Show more'}
        </button>
      )}
    </section>
  );
}
