// Home: the guidance queue. Most urgent first; each card ticks down to its next escalation. Screen
// readers hear threshold crossings (10, 5 and 1 min left) politely, not every tick.
import { useEffect, useRef } from 'preact/hooks';
import { AlertCard } from '../components/AlertCard';
import { ProblemBox } from '../components/Problem';
import { useTitle } from '../hooks';
import { actingNow, announce, holds, loadQueue, pendingAcks, queue } from '../queue';
import { loadReach, reach } from '../reach';
import { Link, navigate, useRoute } from '../router';
import { useStore } from '../store';
import { clock, minutesLeft, until, useNow } from '../time';
import { label, type AlertView } from '../types';

const THRESHOLDS = [10, 5, 1];

function useEscalationAnnouncer(items: AlertView[]) {
  const now = useNow();
  const said = useRef(new Map<number, number>());
  const primed = useRef(false);
  useEffect(() => {
    for (const a of items) {
      if (a.status !== 'triggered' || !a.escalation?.next_at) continue;
      const left = minutesLeft(a.escalation.next_at, now)!;
      const crossed = THRESHOLDS.filter((t) => left <= t).pop(); // the smallest threshold reached
      if (crossed === undefined || left <= 0) continue;
      const key = a.id * 1000 + a.escalation.level;
      if (said.current.get(key) === crossed) continue;
      said.current.set(key, crossed);
      if (primed.current) {
        const to = a.escalation.next_to ? ` to ${a.escalation.next_to}` : '';
        announce(`${a.title} escalates${to} in ${until(a.escalation.next_at, now)}`);
      }
    }
    primed.current = true;
  }, [now, items]);
}

type Group = 'needs' | 'progress' | 'snoozed';
const GROUPS: Array<{ key: Group; title: string }> = [
  { key: 'needs', title: 'Needs you' },
  { key: 'progress', title: 'In progress' },
  { key: 'snoozed', title: 'Snoozed' },
];

function groupOf(a: AlertView, pending: boolean, now: number): Group {
  if (a.status === 'triggered' || pending) return 'needs';
  if (a.snoozed_until && Date.parse(a.snoozed_until) > now) return 'snoozed';
  return 'progress';
}

/** "Push is off on this device" / "No channel reaches you outside the app", with where to fix it. */
function ReachNote() {
  const r = useStore(reach);
  useEffect(() => {
    void loadReach();
  }, []);
  const notes: string[] = [];
  if (r.push === 'off' || r.push === 'denied') notes.push(r.push === 'denied' ? 'Push is blocked on this device.' : 'Push is off on this device.');
  if (r.push === 'unsupported') notes.push('This device cannot receive push.');
  if (r.me && r.me.working.length === 0) notes.push('No channel reaches you outside the app.');
  if (!notes.length) return null;
  return (
    <p class="reach-note" role="status">
      <span>{notes.join(' ')}</span>
      <Link href="/settings">{r.push === 'off' ? 'Turn on push' : 'Settings'}</Link>
    </p>
  );
}

export function QueuePage() {
  useTitle('My queue');
  const q = useStore(queue);
  const pending = useStore(pendingAcks);
  const held = useStore(holds);
  const inFlight = useStore(actingNow);
  const now = useNow();
  const { query } = useRoute();
  const search = query.get('q') ?? '';
  const category = query.get('category') ?? '';
  // A held card stays in the group it was in when it was acted on (it must not jump under the finger).
  const lastGroup = useRef(new Map<number, Group>());
  useEffect(() => {
    void loadQueue();
  }, []);
  useEscalationAnnouncer(q.items);

  const setFilter = (k: 'q' | 'category', v: string) => {
    const p = new URLSearchParams(query);
    if (v) p.set(k, v);
    else p.delete(k);
    const qs = p.toString();
    navigate(qs ? `/?${qs}` : '/', { replace: true });
  };
  // As GET /v1/alerts?q=: the text in the title, body, category or dedup key.
  const needle = search.trim().replace(/\s+/g, ' ').toLowerCase();
  const shown = q.items.filter(
    (a) => (!category || a.category === category) && (!needle || [a.title, a.body ?? '', a.category, a.dedup_key].some((f) => f.toLowerCase().includes(needle))),
  );
  const categories = [...new Set(q.items.map((a) => a.category))].sort();
  const groups = new Map<Group, AlertView[]>(GROUPS.map((g) => [g.key, []]));
  for (const a of shown) {
    const g = held[a.id] || inFlight[a.id] ? (lastGroup.current.get(a.id) ?? groupOf(a, false, now)) : groupOf(a, pending[a.id] !== undefined, now);
    lastGroup.current.set(a.id, g);
    groups.get(g)!.push(a);
  }
  const needs = groups.get('needs')!.length;
  const topId = shown.find((a) => a.sop)?.id ?? null;

  return (
    <section class="page" aria-labelledby="queue-title">
      {/* On a phone the heading is for screen readers only (the Queue tab says where you are): room for cards. */}
      <h1 id="queue-title" class="queue-title">
        My queue
      </h1>
      <ReachNote />
      {q.loaded && !q.error && (
        <div class="q-tools" role="search">
          <input
            type="search"
            class="q-search"
            aria-label="Search the queue"
            placeholder="Search"
            value={search}
            onInput={(e) => setFilter('q', (e.currentTarget as HTMLInputElement).value)}
          />
          <select aria-label="Category" value={category} onChange={(e) => setFilter('category', (e.currentTarget as HTMLSelectElement).value)}>
            <option value="">All categories</option>
            {[...new Set([...categories, ...(category ? [category] : [])])].map((c) => (
              <option key={c} value={c}>
                {label(c)}
              </option>
            ))}
          </select>
          <button type="button" class="btn small ghost" onClick={() => void loadQueue()} disabled={q.loading}>
            Refresh
          </button>
        </div>
      )}
      {q.loaded && !q.error && (
        <p class="sub sr-only" role="status">
          {q.items.length === 0
            ? 'Nothing needs you right now.'
            : `${shown.length} open${shown.length !== q.items.length ? ' shown' : ''}, ${needs} need${needs === 1 ? 's' : ''} you. Most urgent first.`}
        </p>
      )}
      {q.loaded && !q.error && q.items.length === 0 && <p class="sub">Nothing needs you right now.</p>}
      {q.loaded && q.items.length > 0 && shown.length === 0 && <p class="sub">No open alert matches.</p>}
      {q.savedAt && (
        <p class="notice" role="status">
          Offline: showing the queue saved at {clock(new Date(q.savedAt).toISOString())}.
        </p>
      )}
      {q.error && (
        <>
          <ProblemBox error={new Error(q.error)} title="Could not load your queue" />
          <button type="button" class="btn" onClick={() => void loadQueue()}>
            Try again
          </button>
        </>
      )}
      {!q.loaded && (
        <p class="loading" role="status">
          Loading your queue…
        </p>
      )}
      {GROUPS.map(({ key, title }) => {
        const items = groups.get(key)!;
        if (!items.length) return null;
        return (
          <section key={key} class="q-group" aria-labelledby={`q-${key}`}>
            <h2 id={`q-${key}`}>
              {title} <span class="count">({items.length})</span>
            </h2>
            <ol class="cards" aria-label={`${title}, most urgent first`}>
              {items.map((a) => (
                <li key={a.id}>
                  <AlertCard alert={a} pending={pending[a.id] !== undefined} sopOpen={a.id === topId} />
                </li>
              ))}
            </ol>
          </section>
        );
      })}
    </section>
  );
}
