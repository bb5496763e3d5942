// The page frame: skip link, header with the live-connection state, the main navigation (a scrollable row
// on phones), the update prompt, the offline notice, <main>, and one polite live region for announcements.
import type { ComponentChildren } from 'preact';
import { liveStatus } from '../live';
import { announcement, pendingAcks } from '../queue';
import { Link, useRoute } from '../router';
import { isAdmin, session } from '../session';
import { online, unread } from '../status';
import { useStore } from '../store';
import { updateReady } from '../sw-register';

const LIVE_TEXT = { off: 'Not live', connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…' } as const;

function NavLink({ href, children, exact }: { href: string; children: ComponentChildren; exact?: boolean }) {
  const { path } = useRoute();
  const current = exact ? path === href : path === href || path.startsWith(href + '/');
  return (
    <li>
      <Link href={href} aria-current={current ? 'page' : undefined}>
        {children}
      </Link>
    </li>
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
        {user && (
          <nav aria-label="Main" class="mainnav">
            <ul>
              <NavLink href="/" exact>
                Queue
              </NavLink>
              <NavLink href="/notifications">
                Notifications
                {!!counts?.all && (
                  <span class="badge">
                    {counts.all}
                    <span class="sr-only"> unread</span>
                  </span>
                )}
              </NavLink>
              <NavLink href="/analytics">Analytics</NavLink>
              <NavLink href="/dashboards">Dashboards</NavLink>
              <NavLink href="/schedules">On call</NavLink>
              {isAdmin(user) && (
                <>
                  <NavLink href="/rules">Rules</NavLink>
                  <NavLink href="/users">Users</NavLink>
                  <NavLink href="/roles">Roles</NavLink>
                  <NavLink href="/integrations">Integrations</NavLink>
                  <NavLink href="/webhooks">Webhooks</NavLink>
                </>
              )}
              <NavLink href="/settings">Settings</NavLink>
            </ul>
          </nav>
        )}
      </div>
      <main id="main" tabIndex={-1}>
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
