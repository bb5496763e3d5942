// The guidance queue: my open alerts, most urgent first, kept live by the event stream, saved for offline
// use, and the one place alert actions (acknowledge, resolve, snooze) go through, including the offline
// acknowledgement queue.
import { api, ApiError, NetworkError, errorText } from './api';
import { onAlert, onReconnect } from './live';
import { createStore } from './store';
import { priorityRank, type AlertList, type AlertView } from './types';

export const QUEUE_URL = '/v1/alerts?status=triggered,acknowledged&mine=true&limit=100';
const SAVED = 'herald.queue';
const PENDING = 'herald.pending-acks';

export interface QueueState {
  items: AlertView[];
  loaded: boolean;
  loading: boolean;
  error: string | null;
  /** Set when the list shown is the copy saved on this device (the server could not be reached). */
  savedAt: number | null;
}

export const queue = createStore<QueueState>({ items: [], loaded: false, loading: false, error: null, savedAt: null });

/** Acknowledgements made offline, by alert id → when they were made. Shown as "pending" on the card. */
export const pendingAcks = createStore<Record<number, number>>(readJson(PENDING) ?? {});
pendingAcks.subscribe((p) => writeJson(PENDING, p));

/**
 * Cards that were just acted on, by alert id. Such a card stays where it is for HOLD_MS, showing its new
 * state and an Undo button, then settles (moves to its new place, or leaves the queue when resolved): the
 * card below never slides under the finger that just tapped. `height` is the card's height before the
 * action, kept as its minimum while held so nothing below moves either.
 */
export interface Hold {
  action: Action;
  at: number;
  height: number | null;
}
export const HOLD_MS = 5000;
export const holds = createStore<Record<number, Hold>>({});
const holdTimers = new Map<number, ReturnType<typeof setTimeout>>();

/**
 * Cards whose action is on its way to the server keep their place too: the live stream can report the change
 * (and re-sort the queue) before the POST answers, on a slow phone or a busy server.
 */
const actingIds = new Set<number>();
/** Cards whose action is in flight, as a store too: the grouped queue keeps them in their group meanwhile. */
export const actingNow = createStore<Record<number, true>>({});
const acting = {
  add(id: number) {
    actingIds.add(id);
    actingNow.set((a) => ({ ...a, [id]: true }));
  },
  delete(id: number) {
    if (!actingIds.delete(id)) return;
    actingNow.set((a) => {
      const n = { ...a };
      delete n[id];
      return n;
    });
  },
  has: (id: number) => actingIds.has(id),
};
const pinned = (id: number) => Boolean(holds.get()[id]) || acting.has(id);

function hold(id: number, action: Action, height: number | null) {
  holds.set((h) => ({ ...h, [id]: { action, at: Date.now(), height } }));
  const t = holdTimers.get(id);
  if (t) clearTimeout(t);
  holdTimers.set(id, setTimeout(() => release(id), HOLD_MS));
}

/** The card settles: it takes its place in the order (or leaves the queue when resolved). */
export function release(id: number) {
  const t = holdTimers.get(id);
  if (t) clearTimeout(t);
  holdTimers.delete(id);
  if (!holds.get()[id]) return;
  holds.set((h) => {
    const n = { ...h };
    delete n[id];
    return n;
  });
  const q = queue.get();
  setItems(q.items, { savedAt: q.savedAt });
}

/** Polite screen-reader announcements (one shared live region in the layout). */
export const announcement = createStore<string>('');
export function announce(text: string) {
  announcement.set('');
  setTimeout(() => announcement.set(text), 50);
}

function readJson<T>(key: string): T | null {
  try {
    return JSON.parse(localStorage.getItem(key) || 'null') as T | null;
  } catch {
    return null;
  }
}
function writeJson(key: string, v: unknown) {
  try {
    localStorage.setItem(key, JSON.stringify(v));
  } catch {
    /* ignore */
  }
}

const time = (iso: string | null | undefined) => (iso ? Date.parse(iso) : Number.POSITIVE_INFINITY);

/** Priority critical > high > normal > low, then the soonest escalation, then the oldest. */
export function compareAlerts(a: AlertView, b: AlertView): number {
  return (
    priorityRank(b.priority) - priorityRank(a.priority) ||
    time(a.escalation?.next_at) - time(b.escalation?.next_at) ||
    Date.parse(a.created_at) - Date.parse(b.created_at) ||
    a.id - b.id
  );
}

/** Sorted, except that held cards keep the places they had (resolved ones too, until they settle). */
function setItems(items: AlertView[], extra: Partial<QueueState> = {}) {
  const prev = queue.get().items;
  const sorted = items.filter((a) => a.status !== 'resolved' && !pinned(a.id)).sort(compareAlerts);
  const kept = items
    .filter((a) => pinned(a.id))
    .map((a) => ({ a, i: prev.findIndex((x) => x.id === a.id) }))
    .sort((x, y) => x.i - y.i);
  for (const { a, i } of kept) sorted.splice(i < 0 ? sorted.length : Math.min(i, sorted.length), 0, a);
  queue.set((q) => ({ ...q, items: sorted, loaded: true, loading: false, ...extra }));
  if (!extra.savedAt) writeJson(SAVED, { at: Date.now(), items: sorted.filter((a) => a.status !== 'resolved') });
}

let inflight: Promise<void> | null = null;
export function loadQueue(): Promise<void> {
  if (inflight) return inflight;
  queue.set((q) => ({ ...q, loading: true }));
  inflight = (async () => {
    try {
      const list = await api.get<AlertList>(QUEUE_URL);
      // A held card the server no longer lists (just resolved) stays until it settles.
      const held = queue.get().items.filter((a) => pinned(a.id) && !list.items.some((x) => x.id === a.id));
      setItems([...list.items, ...held], { error: null, savedAt: null });
      for (const a of list.items) if (a.status !== 'triggered') clearPending(a.id);
    } catch (e) {
      const saved = readJson<{ at: number; items: AlertView[] }>(SAVED);
      if (e instanceof NetworkError && saved) {
        setItems(saved.items, { error: null, savedAt: saved.at });
      } else {
        queue.set((q) => ({ ...q, loading: false, loaded: true, error: errorText(e) }));
      }
    } finally {
      inflight = null;
    }
  })();
  return inflight;
}

let refetchTimer: ReturnType<typeof setTimeout> | null = null;
function refetchSoon() {
  if (refetchTimer) return;
  refetchTimer = setTimeout(() => {
    refetchTimer = null;
    void loadQueue();
  }, 250);
}

const changeListeners = new Set<(a: AlertView) => void>();
/** Every alert the app learns about (action answers, the stream, service-worker replays). */
export function onAlertChange(fn: (a: AlertView) => void): () => void {
  changeListeners.add(fn);
  return () => changeListeners.delete(fn);
}

/** Apply an alert the server sent (action answer, stream event, service-worker replay). */
export function upsertAlert(a: AlertView) {
  changeListeners.forEach((fn) => fn(a));
  if (a.status !== 'triggered') clearPending(a.id);
  const q = queue.get();
  const i = q.items.findIndex((x) => x.id === a.id);
  if (i >= 0) {
    const items = q.items.slice();
    if (a.status === 'resolved' && !pinned(a.id)) items.splice(i, 1);
    // The stream and action answers do not carry the reader's own view (escalated_to_you): keep it.
    else items[i] = a.escalated_to_you === undefined ? { ...a, escalated_to_you: items[i].escalated_to_you } : a;
    setItems(items, { savedAt: q.savedAt });
  } else if (a.status !== 'resolved' && q.loaded) {
    // New to this list; whether it is "mine" is the server's call.
    refetchSoon();
    if (a.status === 'triggered') announce(`New ${a.priority} alert: ${a.title}`);
  }
}

onAlert(upsertAlert);
onReconnect(() => {
  if (queue.get().loaded) refetchSoon();
});

export function clearPending(id: number) {
  if (pendingAcks.get()[id] === undefined) return;
  pendingAcks.set((p) => {
    const n = { ...p };
    delete n[id];
    return n;
  });
}

export type Action = 'acknowledge' | 'resolve' | 'snooze';
export type ActResult = { kind: 'done'; alert: AlertView } | { kind: 'pending' };

/**
 * Acknowledge, resolve or snooze (1 h). An acknowledgement that cannot reach the server is kept: the
 * service worker's Background Sync queue holds the request itself, and the page replays it on `online`
 * for browsers without Background Sync. Other actions need the network.
 */
export async function act(id: number, action: Action, opts: { height?: number | null } = {}): Promise<ActResult> {
  const body = action === 'snooze' ? { minutes: 60 } : {};
  acting.add(id);
  try {
    const alert = await api.post<AlertView>(`/v1/alerts/${id}/${action}`, body);
    hold(id, action, opts.height ?? null);
    acting.delete(id);
    upsertAlert(alert);
    announce(`${alert.title}: ${action === 'acknowledge' ? 'acknowledged' : action === 'resolve' ? 'resolved' : 'snoozed for 1 hour'}`);
    return { kind: 'done', alert };
  } catch (e) {
    if (e instanceof NetworkError && action === 'acknowledge') {
      acting.delete(id);
      pendingAcks.set((p) => ({ ...p, [id]: Date.now() }));
      announce('Offline: the acknowledgement is pending and will be sent when you are back online.');
      return { kind: 'pending' };
    }
    acting.delete(id);
    throw e;
  }
}

/**
 * Takes back this person's own last acknowledge, resolve or snooze (the server allows 30 s and refuses
 * if someone else acted since). The card settles at once, back in its place.
 */
export async function undoAct(id: number): Promise<AlertView> {
  try {
    const alert = await api.post<AlertView>(`/v1/alerts/${id}/undo`, {});
    release(id);
    upsertAlert(alert);
    announce(`${alert.title}: undone, ${alert.status === 'triggered' ? 'waiting for acknowledgement again' : alert.status}`);
    return alert;
  } catch (e) {
    release(id);
    refetchSoon();
    throw e;
  }
}

let replaying = false;
/** Send acknowledgements made offline (the fallback for browsers without Background Sync). */
export async function replayPending(): Promise<void> {
  if (replaying || !navigator.onLine) return;
  replaying = true;
  try {
    for (const key of Object.keys(pendingAcks.get())) {
      const id = Number(key);
      if (pendingAcks.get()[id] === undefined) continue; // the service worker got there first
      try {
        const alert = await api.post<AlertView>(`/v1/alerts/${id}/acknowledge`, {});
        clearPending(id);
        upsertAlert(alert);
      } catch (e) {
        if (e instanceof NetworkError) break; // still offline; try again later
        clearPending(id);
        // 409: acknowledged (or resolved) meanwhile; the refreshed list shows by whom.
        if (!(e instanceof ApiError && e.status === 409)) announce(`Could not acknowledge alert ${id}: ${errorText(e)}`);
        refetchSoon();
      }
    }
  } finally {
    replaying = false;
  }
}

addEventListener('online', () => {
  // Give the service worker's Background Sync a moment to replay first; duplicates answer 409 anyway.
  setTimeout(() => void replayPending(), 1500);
  if (queue.get().loaded) void loadQueue();
});

/** Forget the list (sign-out): the next person must not see it. */
export function resetQueue() {
  for (const id of [...holdTimers.keys()]) clearTimeout(holdTimers.get(id));
  holdTimers.clear();
  holds.set({});
  queue.set({ items: [], loaded: false, loading: false, error: null, savedAt: null });
  pendingAcks.set({});
}
