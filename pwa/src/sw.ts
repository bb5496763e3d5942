/// <reference lib="webworker" />
// Herald's service worker (vite-plugin-pwa injectManifest; built as an IIFE).
//
// - App shell: every built asset is precached; navigations to the PWA's own routes get the cached
//   index.html, so the app opens offline. Other paths (the API, email confirmation pages, provider
//   endpoints) always go to the network.
// - Last data: GET /v1/alerts (the queue), /v1/alerts/:id and /v1/notifications are network-first with
//   the last good answer kept, so the last queue opens offline. The page deletes this cache on sign-out.
// - Offline acknowledgements: a POST /v1/alerts/:id/acknowledge that fails for lack of network is kept in
//   a Workbox Background Sync queue and replayed when connectivity returns (or when the worker next starts,
//   in browsers without Background Sync). Each replay is reported to open pages ('ack-replayed') so the
//   card's "pending" state clears. The page also replays on `online` itself; a duplicate answers 409.
// - Push: a payload `{alert, reason, ack_url?}` becomes a notification with an Acknowledge action; a tap
//   opens /alerts/:id. The action acknowledges with the session cookie and the CSRF token the page handed
//   over; without a session it POSTs the payload's signed `ack_url`.
import { Queue } from 'workbox-background-sync';
import { clientsClaim } from 'workbox-core';
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { NetworkFirst, NetworkOnly } from 'workbox-strategies';
import type { AlertView } from './types';
import { MORE_HREF, NAV } from './nav';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: Array<string | { url: string; revision: string | null }> };

precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();
clientsClaim();

// ---- app shell ---------------------------------------------------------------------------------------

const APP_ROUTES = ['/', '/login', '/alerts/\\d+', '/notifications', '/settings', '/stats', '/analytics', '/alerts', '/schedules', '/dashboards(?:/[^/?]+)*', '/metrics', '/integrations', '/rules(?:/[^/?]+)?', '/users', '/roles'];
registerRoute(
  new NavigationRoute(createHandlerBoundToURL('/index.html'), {
    // Every page in the navigation list (../nav.ts) is an app route too, and /more (the phone's More tab).
    allowlist: [...APP_ROUTES, MORE_HREF, ...NAV.map((e) => e.href.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))].map((p) => new RegExp(`^${p}/?(?:\\?.*)?$`)),
  }),
);

// ---- last answers of the API, for offline use --------------------------------------------------------

const API_CACHE = 'herald-api';
registerRoute(
  ({ url, request }) =>
    request.method === 'GET' &&
    url.origin === self.location.origin &&
    (url.pathname === '/v1/alerts' || /^\/v1\/alerts\/\d+$/.test(url.pathname) || url.pathname === '/v1/notifications'),
  new NetworkFirst({ cacheName: API_CACHE, networkTimeoutSeconds: 6 }),
);

// ---- offline acknowledgements (Background Sync) ------------------------------------------------------

const ACK_PATH = /^\/v1\/alerts\/(\d+)\/acknowledge$/;
const alertIdOf = (url: string) => Number(ACK_PATH.exec(new URL(url).pathname)?.[1]) || null;

async function broadcast(msg: unknown) {
  const clients = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  for (const c of clients) c.postMessage(msg);
}

const ackQueue = new Queue('herald-acks', {
  maxRetentionTime: 24 * 60, // minutes: an acknowledgement older than a day is no longer news
  async onSync({ queue }) {
    let entry;
    while ((entry = await queue.shiftRequest())) {
      let res: Response;
      try {
        res = await fetch(entry.request.clone());
      } catch (e) {
        await queue.unshiftRequest(entry); // still offline: the browser fires sync again later
        throw e;
      }
      if (res.status >= 500 || res.status === 429) {
        await queue.unshiftRequest(entry);
        throw new Error(`acknowledgement replay answered ${res.status}; retrying later`);
      }
      // 2xx done; 409 already acknowledged/resolved meanwhile (done too); other 4xx will never succeed.
      const alertId = (entry.metadata as { alertId?: number | null } | undefined)?.alertId ?? alertIdOf(entry.request.url);
      let alert: AlertView | undefined;
      if (res.ok && (res.headers.get('content-type') || '').includes('json')) alert = await res.json().catch(() => undefined);
      await broadcast({ type: 'ack-replayed', alertId, status: res.status, alert });
    }
  },
});

registerRoute(
  ({ url, request }) => request.method === 'POST' && url.origin === self.location.origin && ACK_PATH.test(url.pathname),
  new NetworkOnly({
    plugins: [
      {
        // Only a network failure lands here (an HTTP error is an answer, not a failure).
        fetchDidFail: async ({ request }) => {
          await ackQueue.pushRequest({ request, metadata: { alertId: alertIdOf(request.url) } });
        },
      },
    ],
  }),
  'POST',
);

// ---- small persistent values (the CSRF token, the VAPID key) -----------------------------------------

const META_CACHE = 'herald-meta';
async function setMeta(key: string, value: string | null) {
  const cache = await caches.open(META_CACHE);
  if (value === null) await cache.delete(`/__meta/${key}`);
  else await cache.put(`/__meta/${key}`, new Response(value));
}
async function getMeta(key: string): Promise<string | null> {
  const res = await (await caches.open(META_CACHE)).match(`/__meta/${key}`);
  return res ? res.text() : null;
}

self.addEventListener('message', (event) => {
  const m = event.data as { type?: string; csrf_token?: string | null; key?: string } | null;
  if (!m) return;
  if (m.type === 'SKIP_WAITING') void self.skipWaiting();
  else if (m.type === 'session') event.waitUntil(setMeta('csrf', m.csrf_token ?? null));
  else if (m.type === 'vapid-key' && m.key) event.waitUntil(setMeta('vapid', m.key));
});

// ---- push ----------------------------------------------------------------------------------------------

interface PushPayload {
  alert?: AlertView;
  reason?: string;
  ack_url?: string;
}
interface NotificationData {
  alertId: number | null;
  url: string;
  ack_url: string | null;
  title: string;
}
type ShowOptions = NotificationOptions & {
  actions?: Array<{ action: string; title: string }>;
  renotify?: boolean;
  timestamp?: number;
};

const cap = (s: string) => (s === 'ceo' ? 'CEO' : s.charAt(0).toUpperCase() + s.slice(1).replace(/_/g, ' '));
const hhmm = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

function notificationFor(p: PushPayload): { title: string; options: ShowOptions } {
  const a = p.alert!;
  const urgent = a.priority === 'high' || a.priority === 'critical';
  const title = `${urgent ? `[${a.priority.toUpperCase()}] ` : ''}${a.title}`;
  const lines = [`${cap(a.category)} · ${cap(a.severity)}${p.reason ? ` · ${p.reason}` : ''}`];
  if (a.status === 'triggered' && a.escalation?.next_at)
    lines.push(`Escalates${a.escalation.next_to ? ` to ${a.escalation.next_to}` : ''} at ${hhmm(a.escalation.next_at)}`);
  else if (a.status === 'acknowledged') lines.push(`Acknowledged${a.acknowledged_by ? ` by ${a.acknowledged_by.name}` : ''}`);
  else if (a.status === 'resolved') lines.push(`Resolved${a.resolved_by ? ` by ${a.resolved_by.name}` : ''}`);
  const data: NotificationData = { alertId: a.id, url: `/alerts/${a.id}`, ack_url: p.ack_url ?? null, title: a.title };
  return {
    title,
    options: {
      body: lines.join('\n'),
      tag: `alert-${a.id}`,
      // A new or escalated alert buzzes again; a status update replaces the notification quietly.
      renotify: a.status === 'triggered',
      silent: a.status !== 'triggered',
      requireInteraction: a.status === 'triggered' && a.priority === 'critical',
      icon: '/icons/icon-192.png',
      badge: '/icons/badge-96.png',
      timestamp: Date.parse(a.updated_at || a.created_at) || Date.now(),
      data,
      actions: a.status === 'triggered' ? [{ action: 'acknowledge', title: 'Acknowledge' }] : [],
    },
  };
}

self.addEventListener('push', (event) => {
  let payload: PushPayload | null = null;
  let text = '';
  try {
    payload = (event.data?.json() as PushPayload) ?? null;
  } catch {
    text = event.data?.text() ?? '';
  }
  // Accept a bare AlertView too.
  if (payload && !payload.alert && typeof (payload as unknown as AlertView).id === 'number') payload = { alert: payload as unknown as AlertView };
  const show =
    payload?.alert && typeof payload.alert.id === 'number'
      ? notificationFor(payload)
      : {
          title: 'Herald',
          options: { body: payload?.reason || text || 'You have a new alert.', icon: '/icons/icon-192.png', data: { alertId: null, url: '/', ack_url: null, title: 'Herald' } },
        };
  event.waitUntil(
    Promise.all([self.registration.showNotification(show.title, show.options), payload?.alert ? broadcast({ type: 'alert-updated', alert: payload.alert }) : null]),
  );
});

async function openUrl(path: string) {
  const target = new URL(path, self.location.origin);
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const same = windows.find((c) => new URL(c.url).origin === target.origin);
  if (same) {
    // Route inside the running app (no reload); it still works if focus is refused.
    same.postMessage({ type: 'navigate', url: target.pathname + target.search });
    await same.focus().catch(() => undefined);
    return;
  }
  await self.clients.openWindow(target.href);
}

async function tell(d: NotificationData, body: string) {
  await self.registration.showNotification(d.title, {
    body,
    tag: d.alertId ? `alert-${d.alertId}` : undefined,
    icon: '/icons/icon-192.png',
    silent: true,
    data: d,
  } as ShowOptions);
}

/** The Acknowledge action: session first, the signed ack_url without one, queued when offline. */
async function acknowledgeFromNotification(d: NotificationData) {
  if (!d.alertId) return openUrl(d.url);
  const token = await getMeta('csrf');
  if (token) {
    const request = new Request(`/v1/alerts/${d.alertId}/acknowledge`, {
      method: 'POST',
      credentials: 'include',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': token },
      body: '{}',
    });
    let res: Response | null = null;
    try {
      res = await fetch(request.clone());
    } catch {
      await ackQueue.pushRequest({ request, metadata: { alertId: d.alertId } });
      return tell(d, 'No connection: the acknowledgement is queued and will be sent when you are back online.');
    }
    if (res.ok || res.status === 409) {
      const alert = res.ok ? await res.json().catch(() => undefined) : undefined;
      await broadcast({ type: 'ack-replayed', alertId: d.alertId, status: res.status, alert });
      return;
    }
    if (res.status !== 401 && res.status !== 403) return tell(d, `Could not acknowledge (HTTP ${res.status}). Open Herald to retry.`);
    await setMeta('csrf', null); // the session is gone
  }
  if (d.ack_url) {
    const request = new Request(d.ack_url, { method: 'POST' });
    try {
      const res = await fetch(request.clone());
      if (res.ok || res.status === 409) {
        await broadcast({ type: 'ack-replayed', alertId: d.alertId, status: res.status });
        return;
      }
    } catch {
      await ackQueue.pushRequest({ request, metadata: { alertId: d.alertId } });
      return tell(d, 'No connection: the acknowledgement is queued and will be sent when you are back online.');
    }
  }
  // No way to act for the user here: open the alert so they can sign in and acknowledge.
  return openUrl(d.url);
}

self.addEventListener('notificationclick', (event) => {
  const d = (event.notification.data || { alertId: null, url: '/', ack_url: null, title: 'Herald' }) as NotificationData;
  event.notification.close();
  event.waitUntil(event.action === 'acknowledge' ? acknowledgeFromNotification(d) : openUrl(d.url || '/'));
});

// The push service rotated the subscription: register the new one (best effort; needs a session).
self.addEventListener('pushsubscriptionchange', (event: Event) => {
  const e = event as ExtendableEvent & { oldSubscription?: PushSubscription | null; newSubscription?: PushSubscription | null };
  e.waitUntil(
    (async () => {
      const [key, token] = await Promise.all([getMeta('vapid'), getMeta('csrf')]);
      if (!token) return;
      let sub = e.newSubscription ?? null;
      if (!sub && key) {
        const raw = atob((key + '='.repeat((4 - (key.length % 4)) % 4)).replace(/-/g, '+').replace(/_/g, '/'));
        const bytes = new Uint8Array(new ArrayBuffer(raw.length));
        for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
        sub = await self.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: bytes });
      }
      if (!sub) return;
      const headers = { 'Content-Type': 'application/json', 'X-CSRF-Token': token };
      const json = sub.toJSON();
      await fetch('/v1/push/subscriptions', {
        method: 'POST',
        credentials: 'include',
        headers,
        body: JSON.stringify({ endpoint: sub.endpoint, keys: { p256dh: json.keys?.p256dh, auth: json.keys?.auth } }),
      });
      if (e.oldSubscription)
        await fetch('/v1/push/subscriptions', { method: 'DELETE', credentials: 'include', headers, body: JSON.stringify({ endpoint: e.oldSubscription.endpoint }) });
    })(),
  );
});
