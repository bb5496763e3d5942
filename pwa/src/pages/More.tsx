// /more — on a phone, the "More" tab: every page that is not a bottom tab (from the one list in ../nav.ts),
// grouped, and Sign out, so nothing sits off-screen.
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
      <h1 id="more-title">More</h1>
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
      <p class="more-signout">
        {user && <span class="sub">Signed in as {user.name}. </span>}
        <button type="button" class="btn danger" onClick={() => void logout()}>
          Sign out
        </button>
      </p>
    </section>
  );
}
