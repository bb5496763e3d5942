// /more — on a phone, the "More" tab: every page that is not a bottom tab (from the one list in ../nav.ts),
// grouped two to a row, with Sign out at the top, so nothing sits off-screen.
import { useTitle } from '../hooks';
import { navCurrent, visibleNav, type NavEntry } from '../nav';
import { Link, useRoute } from '../router';
import { currentUser, hasPermission, isAdmin, logout } from '../session';

const SECTIONS: Array<NonNullable<NavEntry['section']>> = ['Work', 'Admin', 'You'];

export function MorePage() {
  useTitle('More');
  const { path } = useRoute();
  const user = currentUser();
  const entries = visibleNav(isAdmin(user), (p) => hasPermission(user, p)).filter((e) => !e.tab);
  const unsectioned = entries.filter((e) => !e.section);
  return (
    <section class="page" aria-labelledby="more-title">
      {/* Sign out first: however many pages the list holds, it is on screen above the tab bar. */}
      <div class="page-head">
        <h1 id="more-title">More</h1>
        <button type="button" class="btn danger small" onClick={() => void logout()}>
          Sign out
        </button>
      </div>
      {user && <p class="sub">Signed in as {user.name}.</p>}
      {[...SECTIONS.map((s) => [s, entries.filter((e) => e.section === s)] as const), ['Other', unsectioned] as const]
        .filter(([, list]) => list.length > 0)
        .map(([s, list]) => (
          <nav key={s} class="more-list" aria-label={s}>
            <h2>{s}</h2>
            <ul>
              {list.map((e) => (
                <li key={e.href}>
                  <Link href={e.href} aria-current={navCurrent(e, path) ? 'page' : undefined}>
                    {e.label}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
        ))}
    </section>
  );
}
