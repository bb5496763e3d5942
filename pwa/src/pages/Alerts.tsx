// /alerts — "All alerts": search (`q`: title, body, category, dedup key), a date range (created), status,
// category and priority, newest first, 50 at a time. The analytics page drills down here with from/to/category.
// /alerts?view=unrouted — the events that matched no rule, each with "Make a rule from this event", which
// opens the rule editor pre-filled from the event.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { AlertCard } from '../components/AlertCard';
import { ProblemBox } from '../components/Problem';
import { useDebounced, useTitle } from '../hooks';
import { Link, navigate, useRoute } from '../router';
import { currentUser, isAdmin } from '../session';
import { ago } from '../time';
import { CATEGORIES, PRIORITIES, label, type AlertList, type AlertView } from '../types';

const KEYS = ['q', 'from', 'to', 'category', 'priority', 'status'] as const;

export interface EventView {
  id: number;
  status: string;
  category: string;
  type: string;
  title: string;
  severity: string;
  body: string | null;
  source: string | null;
  dedup_key: string;
  metadata: Record<string, unknown> | null;
  received_at: string;
}

/** yyyy-mm-dd of an ISO instant, in this device's time zone (what a date input shows). */
function dayOf(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}
/** The start of a local day as ISO; `next` the start of the day after (the range's end is exclusive). */
function dayStart(day: string, next = false): string {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y, m - 1, d + (next ? 1 : 0)).toISOString();
}

function Views({ unrouted }: { unrouted: boolean }) {
  return (
    <nav class="toolbar view-switch" aria-label="What to list">
      <Link href="/alerts" class={`btn small${unrouted ? ' ghost' : ''}`} aria-current={unrouted ? undefined : 'page'}>
        Alerts
      </Link>
      <Link href="/alerts?view=unrouted" class={`btn small${unrouted ? '' : ' ghost'}`} aria-current={unrouted ? 'page' : undefined}>
        Unrouted events
      </Link>
    </nav>
  );
}

export default function AlertsPage() {
  const { query } = useRoute();
  return query.get('view') === 'unrouted' ? <UnroutedEvents /> : <AllAlerts />;
}

function AllAlerts() {
  useTitle('All alerts');
  const { query } = useRoute();
  const filter = new URLSearchParams();
  for (const k of KEYS) if (query.get(k)) filter.set(k, query.get(k)!);
  const key = filter.toString();
  const [search, setSearch] = useState(query.get('q') ?? '');
  const typed = useDebounced(search, 300);
  const [items, setItems] = useState<AlertView[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  const setParam = (k: (typeof KEYS)[number], v: string) => {
    const p = new URLSearchParams(filter);
    if (v) p.set(k, v);
    else p.delete(k);
    const qs = p.toString();
    navigate(qs ? `/alerts?${qs}` : '/alerts', { replace: true });
  };
  useEffect(() => {
    if (typed.trim() !== (query.get('q') ?? '')) setParam('q', typed.trim());
  }, [typed]);

  const load = (cursor: string | null) => {
    const p = new URLSearchParams(filter);
    p.set('limit', '50');
    if (cursor) p.set('cursor', cursor);
    api.get<AlertList>(`/v1/alerts?${p}`).then((r) => {
      setItems((old) => (cursor && old ? [...old, ...r.items] : r.items));
      setNext(r.next_cursor);
      setError(null);
    }, setError);
  };
  useEffect(() => {
    setItems(null);
    load(null);
  }, [key]);

  const val = (e: Event) => (e.currentTarget as HTMLInputElement).value;
  return (
    <section class="page" aria-labelledby="alerts-title">
      <h1 id="alerts-title">All alerts</h1>
      <Views unrouted={false} />
      <form class="filters" role="search" aria-label="Filter alerts" onSubmit={(e) => { e.preventDefault(); setParam('q', search.trim()); }}>
        <div class="field">
          <label for="f-q">Search</label>
          <input id="f-q" type="search" value={search} placeholder="Title, text, category or key" onInput={(e) => setSearch(val(e))} />
        </div>
        <div class="row">
          <div class="field">
            <label for="f-from">From</label>
            <input id="f-from" type="date" value={dayOf(query.get('from'))} onChange={(e) => setParam('from', val(e) ? dayStart(val(e)) : '')} />
          </div>
          <div class="field">
            <label for="f-to">To</label>
            <input id="f-to" type="date" value={query.get('to') ? dayOf(new Date(Date.parse(query.get('to')!) - 1).toISOString()) : ''}
              onChange={(e) => setParam('to', val(e) ? dayStart(val(e), true) : '')} />
          </div>
          <div class="field">
            <label for="f-status">Status</label>
            <select id="f-status" value={query.get('status') ?? ''} onChange={(e) => setParam('status', val(e))}>
              <option value="">Any</option>
              <option value="open">Open</option>
              <option value="triggered">Waiting</option>
              <option value="acknowledged">Acknowledged</option>
              <option value="resolved">Resolved</option>
            </select>
          </div>
          <div class="field">
            <label for="f-category">Category</label>
            <select id="f-category" value={query.get('category') ?? ''} onChange={(e) => setParam('category', val(e))}>
              <option value="">Any</option>
              {[...new Set([...CATEGORIES, ...(query.get('category') ? [query.get('category')!] : [])])].map((c) => (
                <option key={c} value={c}>
                  {label(c)}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="f-priority">Priority</label>
            <select id="f-priority" value={query.get('priority') ?? ''} onChange={(e) => setParam('priority', val(e))}>
              <option value="">Any</option>
              {[...PRIORITIES].reverse().map((p) => (
                <option key={p} value={p}>
                  {label(p)}
                </option>
              ))}
            </select>
          </div>
        </div>
        {key && (
          <p>
            <Link href="/alerts">Clear filters</Link>
          </p>
        )}
      </form>
      <ProblemBox error={error} title="Could not load the alerts" />
      {!items && !error && (
        <p class="loading" role="status">
          Loading…
        </p>
      )}
      {items && (
        <p class="sub" role="status">
          {items.length === 0 ? 'No alerts match.' : `${items.length}${next ? '+' : ''} found, newest first.`}
        </p>
      )}
      {items && items.length > 0 && (
        <ol class="cards" aria-label="Matching alerts, newest first">
          {items.map((a) => (
            <li key={a.id}>
              <AlertCard alert={a} pending={false} mine={false} />
            </li>
          ))}
        </ol>
      )}
      {next && (
        <button type="button" class="btn wide" onClick={() => load(next)}>
          Show more
        </button>
      )}
    </section>
  );
}

function UnroutedEvents() {
  useTitle('Unrouted events');
  const admin = isAdmin(currentUser());
  const [items, setItems] = useState<EventView[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = (cursor: string | null) => {
    const p = new URLSearchParams({ status: 'unrouted', limit: '50' });
    if (cursor) p.set('cursor', cursor);
    api.get<{ items: EventView[]; next_cursor: string | null }>(`/v1/events?${p}`).then((r) => {
      setItems((old) => (cursor && old ? [...old, ...r.items] : r.items));
      setNext(r.next_cursor);
    }, setError);
  };
  useEffect(() => load(null), []);
  return (
    <section class="page" aria-labelledby="alerts-title">
      <h1 id="alerts-title">Unrouted events</h1>
      <Views unrouted />
      <p class="sub">Events that matched no rule: nobody was told. Newest first.</p>
      <ProblemBox error={error} title="Could not load the events" />
      {!items && !error && (
        <p class="loading" role="status">
          Loading…
        </p>
      )}
      {items && items.length === 0 && <p>Every event matched a rule.</p>}
      {items && items.length > 0 && (
        <ol class="cards" aria-label="Unrouted events, newest first">
          {items.map((ev) => (
            <li key={ev.id}>
              <article class="event-item" aria-labelledby={`ev-${ev.id}`}>
                <h3 id={`ev-${ev.id}`}>{ev.title}</h3>
                <p class="meta">
                  {label(ev.category)} / {ev.type} · {label(ev.severity)} · {ago(ev.received_at)}
                  {ev.source ? ` · from ${ev.source}` : ''}
                </p>
                {admin && (
                  <Link href={`/rules/new?from_event=${ev.id}`} class="btn small" aria-describedby={`ev-${ev.id}`}>
                    Make a rule from this event
                  </Link>
                )}
              </article>
            </li>
          ))}
        </ol>
      )}
      {next && (
        <button type="button" class="btn wide" onClick={() => load(next)}>
          Show more
        </button>
      )}
    </section>
  );
}
