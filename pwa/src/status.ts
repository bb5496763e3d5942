// Small app-wide facts: connectivity, the unread notification count, and the install prompt.
import { api } from './api';
import { onAlert } from './live';
import { createStore } from './store';
import type { NotificationList } from './types';

export const online = createStore<boolean>(navigator.onLine);
addEventListener('online', () => online.set(true));
addEventListener('offline', () => online.set(false));

export const unread = createStore<NotificationList['unread'] | null>(null);

let unreadTimer: ReturnType<typeof setTimeout> | null = null;
let unreadEnabled = false;

export async function refreshUnread(): Promise<void> {
  if (!unreadEnabled) return;
  try {
    const r = await api.get<NotificationList>('/v1/notifications?limit=0');
    unread.set(r.unread);
  } catch {
    /* the badge is a hint; keep the last value */
  }
}

export function refreshUnreadSoon(delay = 800) {
  if (unreadTimer) return;
  unreadTimer = setTimeout(() => {
    unreadTimer = null;
    void refreshUnread();
  }, delay);
}

export function enableUnread(on: boolean) {
  unreadEnabled = on;
  if (on) void refreshUnread();
  else unread.set(null);
}

onAlert(() => refreshUnreadSoon());

interface BeforeInstallPromptEvent extends Event {
  prompt(): Promise<void>;
  userChoice: Promise<{ outcome: 'accepted' | 'dismissed' }>;
}
export const installPrompt = createStore<BeforeInstallPromptEvent | null>(null);
addEventListener('beforeinstallprompt', (e) => {
  e.preventDefault();
  installPrompt.set(e as BeforeInstallPromptEvent);
});
addEventListener('appinstalled', () => installPrompt.set(null));
