// /notifications — the notification centre: category tabs with unread counts, "Escalating in X min" on
// unacknowledged high/critical alerts, mark read, and bulk acknowledge of a category — after a confirmation
// that names how many alerts it acknowledges; exactly those (by id) are then acknowledged.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import { PriorityChip, SeverityChip } from '../components/Chips';
import { ProblemBox } from '../components/Problem';
import { useTitle } from '../hooks';
import { onAlert } from '../live';
import { announce, loadQueue } from '../queue';
import { Link, navigate, useRoute } from '../router';
import { refreshUnreadSoon, unread } from '../status';
import { useNow, ago, until } from '../time';
import { CATEGORIES, label, type AlertList, type NotificationItem, type NotificationList } from '../types';

const TABS = [['all', 'All'], ...CATEGORIES.map((c) => [c, label(c)] as const)] as ReadonlyArray<readonly [string, string]>;

function EscalatingBadge({ n, now }: { n: NotificationItem; now: number }) {
  if (n.alert_status !== 'triggered' || !n.escalation_next_at) return null;
  if (n.priority !== 'high' && n.priority !== 'critical') return null;
  const left = Date.parse(n.escalation_next_at) - now;
  return <span class={`chip escalating${left < 5 * 60_000 ? ' urgent' : ''}`}>{left <= 0 ? 'Escalating now' : `Escalating in ${until(n.escalation_next_at, now)}`}</span>;
}

export function NotificationsPage() {
  useTitle('Notifications');
  const { query } = useRoute();
  const tab = TABS.some(([k]) => k === query.get('category')) ? query.get('category')! : 'all';
  const [data, setData] = useState<NotificationList | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [bulkBusy, setBulkBusy] = useState(false);
  const [bulkResult, setBulkResult] = useState<string | null>(null);
  const [confirmIds, setConfirmIds] = useState<number[] | null>(null);
  const now = useNow();
  const tabRefs = useRef<Record<string, HTMLButtonElement | null>>({});
  const seq = useRef(0);

  async function load() {
    const mine = ++seq.current;
    try {
      const r = await api.get<NotificationList>(`/v1/notifications${tab === 'all' ? '' : `?category=${encodeURIComponent(tab)}`}`);
      if (mine !== seq.current) return;
      setData(r);
      unread.set(r.unread);
      setError(null);
    } catch (e) {
      if (mine === seq.current) setError(e);
    }
  }

  useEffect(() => {
    setBulkResult(null);
    setConfirmIds(null);
    void load();
    let t: ReturnType<typeof setTimeout> | null = null;
    const off = onAlert(() => {
      if (t) clearTimeout(t);
      t = setTimeout(() => void load(), 300);
    });
    return () => {
      off();
      if (t) clearTimeout(t);
    };
  }, [tab]);

  const select = (k: string) => navigate(k === 'all' ? '/notifications' : `/notifications?category=${k}`, { replace: true });

  function onTabKey(e: KeyboardEvent) {
    const i = TABS.findIndex(([k]) => k === tab);
    let j = -1;
    if (e.key === 'ArrowRight') j = (i + 1) % TABS.length;
    else if (e.key === 'ArrowLeft') j = (i - 1 + TABS.length) % TABS.length;
    else if (e.key === 'Home') j = 0;
    else if (e.key === 'End') j = TABS.length - 1;
    if (j < 0) return;
    e.preventDefault();
    select(TABS[j][0]);
    setTimeout(() => tabRefs.current[TABS[j][0]]?.focus(), 0);
  }

  async function markRead(ids: number[] | 'all') {
    try {
      await api.post('/v1/notifications/read', ids === 'all' ? { all: true } : { ids });
      const at = new Date().toISOString();
      setData((d) =>
        d && { ...d, items: d.items.map((n) => (ids === 'all' || ids.includes(n.id) ? { ...n, read_at: n.read_at ?? at } : n)) },
      );
      refreshUnreadSoon(0);
      if (ids === 'all') void load();
    } catch (e) {
      setError(e);
    }
  }

  /** First step: count the category's unacknowledged alerts and ask. */
  async function askBulk() {
    setBulkBusy(true);
    setBulkResult(null);
    try {
      const ids: number[] = [];
      let cursor: string | null = null;
      do {
        const page: AlertList = await api.get<AlertList>(
          `/v1/alerts?status=triggered&category=${encodeURIComponent(tab)}&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        ids.push(...page.items.map((a) => a.id));
        cursor = page.next_cursor;
      } while (cursor && ids.length < 1000);
      if (!ids.length) setBulkResult(`No unacknowledged ${label(tab)} alerts.`);
      else setConfirmIds(ids.slice(0, 1000));
    } catch (e) {
      setError(e);
    } finally {
      setBulkBusy(false);
    }
  }

  async function bulkAcknowledge(ids: number[]) {
    setBulkBusy(true);
    setBulkResult(null);
    setConfirmIds(null);
    try {
      const r = await api.post<{ acknowledged: number[] }>('/v1/alerts/acknowledge', { ids });
      const n = r.acknowledged?.length ?? 0;
      const msg = n ? `Acknowledged ${n} ${label(tab)} alert${n > 1 ? 's' : ''}.` : `No unacknowledged ${label(tab)} alerts.`;
      setBulkResult(msg);
      announce(msg);
      void load();
      void loadQueue();
    } catch (e) {
      setError(e);
    } finally {
      setBulkBusy(false);
    }
  }

  const counts = data?.unread;
  const items = data?.items ?? [];
  const hasUnacked = items.some((n) => n.alert_status === 'triggered');

  return (
    <section class="page" aria-labelledby="notif-title">
      <div class="page-head">
        <h1 id="notif-title">Notifications</h1>
        <button type="button" class="btn small ghost" onClick={() => void markRead('all')} disabled={!counts?.all}>
          Mark all read
        </button>
      </div>
      <div class="tabs" role="tablist" aria-label="Category" onKeyDown={onTabKey}>
        {TABS.map(([k, name]) => {
          const c = counts?.[k as keyof NotificationList['unread']] ?? 0;
          return (
            <button
              key={k}
              ref={(el) => {
                tabRefs.current[k] = el;
              }}
              type="button"
              role="tab"
              id={`tab-${k}`}
              aria-selected={tab === k}
              aria-controls="notif-panel"
              tabIndex={tab === k ? 0 : -1}
              class="tab"
              onClick={() => select(k)}
            >
              {name}
              {c > 0 && (
                <span class="badge">
                  {c}
                  <span class="sr-only"> unread</span>
                </span>
              )}
            </button>
          );
        })}
      </div>
      <div id="notif-panel" role="tabpanel" aria-labelledby={`tab-${tab}`} tabIndex={0} class="tabpanel">
        {tab !== 'all' && (
          <div class="bulk">
            {!confirmIds && (
              <button type="button" class="btn" disabled={bulkBusy || (!!data && !hasUnacked)} aria-busy={bulkBusy} onClick={askBulk}>
                Acknowledge all {label(tab)}
              </button>
            )}
            {confirmIds && (
              <div class="notice confirm" role="alertdialog" aria-labelledby="bulk-q" aria-describedby="bulk-d">
                <p id="bulk-q">
                  <strong>
                    Acknowledge {confirmIds.length} alert{confirmIds.length === 1 ? '' : 's'}?
                  </strong>
                </p>
                <p id="bulk-d">
                  Every unacknowledged {label(tab)} alert stops escalating and shows you as acknowledging it.
                </p>
                <p class="toolbar">
                  <button type="button" class="btn primary" disabled={bulkBusy} onClick={() => void bulkAcknowledge(confirmIds)}>
                    Acknowledge {confirmIds.length}
                  </button>
                  <button type="button" class="btn" onClick={() => setConfirmIds(null)}>
                    Cancel
                  </button>
                </p>
              </div>
            )}
            {bulkResult && <p role="status">{bulkResult}</p>}
          </div>
        )}
        <ProblemBox error={error} title="Something went wrong" />
        {!data && !error && (
          <p class="loading" role="status">
            Loading…
          </p>
        )}
        {data && items.length === 0 && <p>No notifications{tab === 'all' ? '' : ` in ${label(tab)}`}.</p>}
        {items.length > 0 && (
          <ul class="notifs">
            {items.map((n) => (
              <li key={n.id} class={`notif sev-${n.severity}${n.read_at ? '' : ' unread'}`}>
                <Link href={`/alerts/${n.alert_id}`} onClick={() => !n.read_at && void markRead([n.id])}>
                  {!n.read_at && <span class="sr-only">Unread: </span>}
                  {n.title}
                </Link>
                <div class="chips">
                  <SeverityChip severity={n.severity} />
                  <PriorityChip priority={n.priority} />
                  <span class={`chip status-${n.alert_status}`}>{label(n.alert_status)}</span>
                  <EscalatingBadge n={n} now={now} />
                </div>
                <p class="meta">
                  {label(n.category)} · <time dateTime={n.created_at}>{ago(n.created_at, now)}</time>
                </p>
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}
