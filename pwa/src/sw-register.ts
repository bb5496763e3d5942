// Registers the service worker through workbox-window, offers "A new version is available — Reload" when
// a new worker is waiting, and applies what the worker reports back (acknowledgements replayed by
// Background Sync, actions taken from a notification, "open this alert").
import { Workbox } from 'workbox-window';
import { createStore } from './store';
import { clearPending, loadQueue, upsertAlert, announce } from './queue';
import { navigate } from './router';
import type { AlertView } from './types';

/** Set when a new service worker is waiting; `reload` activates it and reloads the page. */
export const updateReady = createStore<null | { reload: () => void }>(null);

type SwMessage =
  | { type: 'ack-replayed'; alertId: number; status: number; alert?: AlertView }
  | { type: 'alert-updated'; alert: AlertView }
  | { type: 'navigate'; url: string };

export function registerServiceWorker() {
  if (!('serviceWorker' in navigator) || import.meta.env.DEV) return;
  const wb = new Workbox('/sw.js', { scope: '/' });

  wb.addEventListener('waiting', () => {
    updateReady.set({
      reload: () => {
        // Reload once the new worker has taken over.
        wb.addEventListener('controlling', () => location.reload());
        wb.messageSkipWaiting();
      },
    });
  });

  navigator.serviceWorker.addEventListener('message', (ev: MessageEvent<SwMessage>) => {
    const m = ev.data;
    if (!m || typeof m !== 'object') return;
    if (m.type === 'ack-replayed') {
      clearPending(m.alertId);
      if (m.alert) upsertAlert(m.alert);
      else void loadQueue();
      if (m.status >= 400 && m.status !== 409) announce(`A queued acknowledgement was refused (HTTP ${m.status}).`);
    } else if (m.type === 'alert-updated' && m.alert) {
      upsertAlert(m.alert);
    } else if (m.type === 'navigate' && typeof m.url === 'string') {
      navigate(m.url);
    }
  });

  wb.register().catch(() => {
    /* no service worker: the app still works online */
  });
}
