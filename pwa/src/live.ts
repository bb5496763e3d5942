// Server-sent events from /v1/stream: one EventSource for the whole app. EventSource reconnects by itself
// after a dropped connection; when the browser gives up (an HTTP error closes it for good) we reopen it
// with a backoff so a page left open keeps updating.
import { createStore } from './store';
import type { AlertView } from './types';

export type LiveStatus = 'off' | 'connecting' | 'live' | 'reconnecting';
export const liveStatus = createStore<LiveStatus>('off');

type Listener = (a: AlertView) => void;
const listeners = new Set<Listener>();
type MetricsListener = (keys: string[]) => void;
const metricListeners = new Set<MetricsListener>();
const reconnectListeners = new Set<() => void>();
/** Set once the stream has been open: a later open is a reconnection. */
let wasOpen = false;
let source: EventSource | null = null;
let retry: ReturnType<typeof setTimeout> | null = null;
let backoff = 1000;
let wanted = false;

export function onAlert(fn: Listener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Metrics whose figures just moved (sent to people who may read dashboards). */
export function onMetrics(fn: MetricsListener): () => void {
  metricListeners.add(fn);
  return () => metricListeners.delete(fn);
}

/** Called when the stream is back after a drop: changes made meanwhile were not streamed, so reload. */
export function onReconnect(fn: () => void): () => void {
  reconnectListeners.add(fn);
  return () => reconnectListeners.delete(fn);
}

function open() {
  if (!wanted || source || typeof EventSource === 'undefined') return;
  liveStatus.set('connecting');
  const es = new EventSource('/v1/stream', { withCredentials: true });
  source = es;
  es.onopen = () => {
    backoff = 1000;
    liveStatus.set('live');
    if (wasOpen) reconnectListeners.forEach((fn) => fn());
    wasOpen = true;
  };
  es.addEventListener('alert', (ev) => {
    let a: AlertView;
    try {
      a = JSON.parse((ev as MessageEvent<string>).data) as AlertView;
    } catch {
      return;
    }
    if (a && typeof a.id === 'number') listeners.forEach((fn) => fn(a));
  });
  es.addEventListener('metrics', (ev) => {
    let keys: unknown;
    try {
      keys = (JSON.parse((ev as MessageEvent<string>).data) as { keys?: unknown }).keys;
    } catch {
      return;
    }
    if (Array.isArray(keys)) metricListeners.forEach((fn) => fn(keys.filter((k): k is string => typeof k === 'string')));
  });
  es.onerror = () => {
    if (es.readyState === EventSource.CLOSED) {
      source = null;
      liveStatus.set('reconnecting');
      if (wanted && !retry) {
        retry = setTimeout(() => {
          retry = null;
          open();
        }, backoff);
        backoff = Math.min(backoff * 2, 30000);
      }
    } else {
      liveStatus.set('reconnecting'); // the browser is retrying on its own
    }
  };
}

export function startLive() {
  wanted = true;
  open();
}

export function stopLive() {
  wanted = false;
  wasOpen = false;
  if (retry) clearTimeout(retry);
  retry = null;
  source?.close();
  source = null;
  liveStatus.set('off');
}

addEventListener('online', () => {
  if (wanted && !source) {
    backoff = 1000;
    open();
  }
});
