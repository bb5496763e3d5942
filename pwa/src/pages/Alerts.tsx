// /alerts?from=&to=&category=&priority=&status= — the alert list with filters: where the analytics page
// drills down to (a chart point, a category). Newest first, 50 at a time.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { AlertCard } from '../components/AlertCard';
import { ProblemBox } from '../components/Problem';
import { useTitle } from '../hooks';
import { Link, useRoute } from '../router';
import { label, type AlertList, type AlertView } from '../types';

const KEYS = ['from', 'to', 'category', 'priority', 'status'] as const;

function describe(q: URLSearchParams): string {
  const parts: string[] = [];
  const from = q.get('from');
  const to = q.get('to');
  const when = (s: string) => new Date(s).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  if (from && to) parts.push(`created ${when(from)} – ${when(to)}`);
  else if (from) parts.push(`created since ${when(from)}`);
  if (q.get('category')) parts.push(label(q.get('category')!));
  if (q.get('priority')) parts.push(`priority ${q.get('priority')}`);
  if (q.get('status')) parts.push(q.get('status')!);
  return parts.join(', ');
}

export default function AlertsPage() {
  useTitle('Alerts');
  const { query } = useRoute();
  const filter = new URLSearchParams();
  for (const k of KEYS) if (query.get(k)) filter.set(k, query.get(k)!);
  const key = filter.toString();
  const [items, setItems] = useState<AlertView[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

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

  const what = describe(filter);
  return (
    <section class="page" aria-labelledby="alerts-title">
      <p class="back">
        <Link href="/analytics">← Analytics</Link>
      </p>
      <h1 id="alerts-title">Alerts</h1>
      {what && <p class="sub">{what}</p>}
      <ProblemBox error={error} title="Could not load the alerts" />
      {!items && !error && (
        <p class="loading" role="status">
          Loading…
        </p>
      )}
      {items && items.length === 0 && <p>No alerts match.</p>}
      {items && items.length > 0 && (
        <ol class="cards" aria-label="Alerts, newest first">
          {items.map((a) => (
            <li key={a.id}>
              <AlertCard alert={a} pending={false} />
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
