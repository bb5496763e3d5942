// Home: the guidance queue. Most urgent first; each card ticks down to its next escalation. Screen
// readers hear threshold crossings (10, 5 and 1 min left) politely, not every tick.
import { useEffect, useRef } from 'preact/hooks';
import { AlertCard } from '../components/AlertCard';
import { ProblemBox } from '../components/Problem';
import { useTitle } from '../hooks';
import { announce, loadQueue, pendingAcks, queue } from '../queue';
import { useStore } from '../store';
import { clock, minutesLeft, until, useNow } from '../time';
import type { AlertView } from '../types';

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

export function QueuePage() {
  useTitle('My queue');
  const q = useStore(queue);
  const pending = useStore(pendingAcks);
  useEffect(() => {
    void loadQueue();
  }, []);
  useEscalationAnnouncer(q.items);

  const triggered = q.items.filter((a) => a.status === 'triggered').length;
  return (
    <section class="page" aria-labelledby="queue-title">
      <div class="page-head">
        <h1 id="queue-title">My queue</h1>
        <button type="button" class="btn small ghost" onClick={() => void loadQueue()} disabled={q.loading}>
          Refresh
        </button>
      </div>
      {q.loaded && !q.error && (
        <p class="sub">
          {q.items.length === 0
            ? 'Nothing needs you right now.'
            : `${q.items.length} open, ${triggered} waiting for acknowledgement. Most urgent first.`}
        </p>
      )}
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
      {q.items.length > 0 && (
        <ol class="cards" aria-label="Open alerts, most urgent first">
          {q.items.map((a) => (
            <li key={a.id}>
              <AlertCard alert={a} pending={pending[a.id] !== undefined} />
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
