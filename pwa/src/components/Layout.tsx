// The page frame: skip link, header with the live-connection state, the main navigation (a scrollable row
// on phones), the update prompt, the offline notice, <main>, and one polite live region for announcements.
import type { ComponentChildren } from 'preact';
import { liveStatus } from '../live';
import { announcement, pendingAcks } from '../queue';
import { MORE_HREF, navCurrent, visibleNav } from '../nav';
import { Link, useRoute } from '../router';
import { hasPermission, isAdmin, session } from '../session';
import { online, unread } from '../status';
import { useStore } from '../store';
import { updateReady } from '../sw-register';

const LIVE_TEXT = { off: 'Not live', connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…' } as const;

function Badge({ n }: { n: number | undefined }) {
  if (!n) return null;
  return (
    <span class="badge">
      {n}
      <span class="sr-only"> unread</span>
    </span>
  );
}

/** Wide screens: every entry in one row. Phones: the bottom tab bar (the tabs, then More for the rest). */
function Navigation({ admin, may, unreadAll }: { admin: boolean; may: (permission: string) => boolean; unreadAll: number | undefined }) {
  const { path } = useRoute();
  const entries = visibleNav(admin, may);
  const tabs = entries.filter((e) => e.tab);
  const onTab = tabs.some((e) => navCurrent(e, path));
  return (
    <>
      <nav aria-label="Main" class="mainnav">
        <ul>
          {entries.map((e) => (
            <li key={e.href}>
              <Link href={e.href} aria-current={navCurrent(e, path) ? 'page' : undefined}>
                {e.label}
                {e.href === '/notifications' && <Badge n={unreadAll} />}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <nav aria-label="Tabs" class="tabbar">
        <ul>
          {tabs.map((e) => (
            <li key={e.href}>
              <Link href={e.href} aria-current={navCurrent(e, path) ? 'page' : undefined}>
                <span class="tab-label">{e.label}</span>
                {e.href === '/notifications' && <Badge n={unreadAll} />}
              </Link>
            </li>
          ))}
          <li>
            <Link href={MORE_HREF} aria-current={!onTab && path !== '/login' ? 'page' : undefined}>
              <span class="tab-label">More</span>
            </Link>
          </li>
        </ul>
      </nav>
    </>
  );
}

export function Layout({ children }: { children: ComponentChildren }) {
  const s = useStore(session);
  const live = useStore(liveStatus);
  const isOnline = useStore(online);
  const counts = useStore(unread);
  const update = useStore(updateReady);
  const pending = Object.keys(useStore(pendingAcks)).length;
  const spoken = useStore(announcement);
  const user = s.status === 'authed' ? s.user : null;

  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <div class="chrome">
        <header class="topbar">
          <Link href="/" class="brand">
            <img src="/icons/favicon-32.png" width={24} height={24} alt="" />
            <span>Herald</span>
          </Link>
          {user && (
            <span class={`live-dot live-${isOnline ? live : 'off'}`} title="Live updates">
              <span aria-hidden="true" class="dot" />
              {isOnline ? LIVE_TEXT[live] : 'Offline'}
            </span>
          )}
        </header>
        {user && <Navigation admin={isAdmin(user)} may={(p) => hasPermission(user, p)} unreadAll={counts?.all} />}
      </div>
      <main id="main" tabIndex={-1} class={user ? 'with-tabs' : undefined}>
        {update && (
          <div class="banner update" role="status">
            <span>
              A new version is available<span aria-hidden="true"> —</span>
            </span>
            <button type="button" class="btn small" onClick={update.reload}>
              Reload
            </button>
          </div>
        )}
        {!isOnline && user && (
          <div class="banner offline" role="status">
            You are offline. {pending ? `${pending} acknowledgement${pending > 1 ? 's' : ''} pending; ` : ''}
            acknowledgements are sent when you are back online.
          </div>
        )}
        {children}
        <div class="sr-only" aria-live="polite" aria-atomic="true">
          {spoken}
        </div>
      </main>
    </>
  );
}
