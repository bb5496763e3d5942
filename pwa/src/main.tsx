// Entry: restore the session, route, and keep the live stream and offline replay running while signed in.
import { render, type JSX } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import './styles.css';
import { setUnauthorizedHandler } from './api';
import { Layout } from './components/Layout';
import { lazy } from './components/Lazy';
import { startLive, stopLive } from './live';
import { AlertDetailPage } from './pages/AlertDetail';
import { LoginPage } from './pages/Login';
import { NotFoundPage, ForbiddenPage } from './pages/NotFound';
import { MorePage } from './pages/More';
import { NotificationsPage } from './pages/Notifications';
import { QueuePage } from './pages/Queue';
import { SettingsPage } from './pages/Settings';
import { loadQueue, replayPending, resetQueue } from './queue';
import { match, navigate, useRoute } from './router';
import { enrolRequired, hasPermission, isAdmin, restoreSession, session, sessionEnded } from './session';
import { enableUnread } from './status';
import { useStore } from './store';
import { registerServiceWorker } from './sw-register';

const AnalyticsPage = lazy(() => import('./pages/Analytics'));
const AlertsPage = lazy(() => import('./pages/Alerts'));
const RulesPage = lazy(() => import('./pages/admin/Rules'));
const RuleEditorPage = lazy<{ id: string | null }>(() => import('./pages/admin/RuleEditor'));
const RuleTesterPage = lazy(() => import('./pages/admin/RuleTester'));
const RulesImportPage = lazy(() => import('./pages/admin/RulesImport'));
const UsersPage = lazy(() => import('./pages/admin/Users'));
const RolesPage = lazy(() => import('./pages/admin/Roles'));
const IntegrationsPage = lazy(() => import('./pages/admin/Integrations'));
const ExpectationsPage = lazy(() => import('./pages/admin/Expectations'));
const WebhooksPage = lazy(() => import('./pages/admin/Webhooks'));
const DashboardsPage = lazy<{ dkey: string | null }>(() => import('./pages/Dashboards'));
const DashboardEditorPage = lazy<{ dkey: string | null }>(() => import('./pages/admin/DashboardEditor'));
const MetricsPage = lazy(() => import('./pages/admin/Metrics'));
const SchedulesPage = lazy(() => import('./pages/Schedules'));
type ScoringProps = { view: 'scores' } | { view: 'score'; skey: string } | { view: 'entities' } | { view: 'entity'; kind: string; id: string };
const ScoringPage = lazy<ScoringProps>(() => import('./pages/Scoring'));
const SystemPage = lazy(() => import('./pages/admin/System'));
const ReportsPage = lazy(() => import('./pages/Reports'));
const AuditPage = lazy(() => import('./pages/admin/Audit'));
const ApiKeysPage = lazy(() => import('./pages/admin/ApiKeys'));
const SecurityPage = lazy(() => import('./pages/Security'));

function Routes() {
  const { path } = useRoute();
  const s = useStore(session);
  const user = s.status === 'authed' ? s.user : null;
  const admin = isAdmin(user);
  const adminOnly = (el: JSX.Element) => (admin ? el : <ForbiddenPage />);
  const mustEnrol = useStore(enrolRequired);

  if (path === '/login') return null; // redirecting to ?next=
  // An admin who must turn on two-factor sign-in first (HERALD_REQUIRE_2FA) sees only the Security page.
  if (mustEnrol || path === '/settings/security') return <SecurityPage />;
  if (path === '/api-keys') return adminOnly(<ApiKeysPage />);
  if (path === '/') return <QueuePage />;
  let m: Record<string, string> | null;
  if ((m = match('/alerts/:id', path))) return <AlertDetailPage id={Number(m.id)} />;
  if (path === '/notifications') return <NotificationsPage />;
  if (path === '/settings') return <SettingsPage />;
  if (path === '/more') return <MorePage />;
  // /stats was the page's name before it became Analytics.
  if (path === '/analytics' || path === '/stats') return <AnalyticsPage />;
  if (path === '/alerts') return <AlertsPage />;
  if (path === '/dashboards') return <DashboardsPage dkey={null} />;
  if (path === '/dashboards/new/edit') return adminOnly(<DashboardEditorPage dkey={null} />);
  if ((m = match('/dashboards/:key/edit', path))) return adminOnly(<DashboardEditorPage dkey={m.key} />);
  if ((m = match('/dashboards/:key', path))) return <DashboardsPage dkey={m.key} />;
  if (path === '/metrics') return adminOnly(<MetricsPage />);
  if (path === '/schedules') return <SchedulesPage />;
  if (path === '/scores') return <ScoringPage view="scores" />;
  if ((m = match('/scores/:key', path))) return <ScoringPage view="score" skey={m.key} />;
  if (path === '/entities') return <ScoringPage view="entities" />;
  if ((m = match('/entities/:kind/:id', path))) return <ScoringPage view="entity" kind={m.kind} id={m.id} />;
  if (path === '/reports') return <ReportsPage />;
  if (path === '/rules') return adminOnly(<RulesPage />);
  if (path === '/rules/new') return adminOnly(<RuleEditorPage id={null} />);
  if (path === '/rules/test') return adminOnly(<RuleTesterPage />);
  if (path === '/rules/import') return adminOnly(<RulesImportPage />);
  if ((m = match('/rules/:id', path))) return adminOnly(<RuleEditorPage id={m.id} />);
  if (path === '/users') return adminOnly(<UsersPage />);
  if (path === '/roles') return adminOnly(<RolesPage />);
  if (path === '/integrations') return adminOnly(<IntegrationsPage />);
  if (path === '/expectations' || path === '/maintenance') return adminOnly(<ExpectationsPage />);
  if (path === '/system') return adminOnly(<SystemPage />);
  if (path === '/audit') return hasPermission(user, 'audit:read') ? <AuditPage /> : <ForbiddenPage />;
  if (path === '/webhooks') return adminOnly(<WebhooksPage />);
  return <NotFoundPage />;
}

function App() {
  const s = useStore(session);
  const { path, query } = useRoute();
  const first = useRef(true);

  // Signed in: stream + unread badge + offline replay. Signed out: stop and forget.
  useEffect(() => {
    if (s.status === 'authed') {
      startLive();
      enableUnread(true);
      void replayPending();
    } else if (s.status === 'anon') {
      stopLive();
      enableUnread(false);
      resetQueue();
    }
  }, [s.status]);

  // Route guard: anonymous → /login?next=…; signed in on /login → next.
  useEffect(() => {
    if (s.status === 'anon' && path !== '/login') {
      const next = location.pathname + location.search;
      navigate(next && next !== '/' ? `/login?next=${encodeURIComponent(next)}` : '/login', { replace: true });
    } else if (s.status === 'authed' && path === '/login') {
      const next = query.get('next');
      navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/', { replace: true });
    }
  }, [s.status, path]);

  // Move focus to the new page for keyboard and screen-reader users (not on the first load).
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [path]);

  if (s.status === 'loading') {
    return (
      <Layout>
        <p class="loading" role="status">
          Loading…
        </p>
      </Layout>
    );
  }
  return <Layout>{s.status === 'anon' ? <LoginPage /> : <Routes />}</Layout>;
}

setUnauthorizedHandler(sessionEnded);
render(<App />, document.getElementById('app')!);
registerServiceWorker();
void restoreSession().then(() => {
  if (session.get().status === 'authed') void loadQueue();
});
