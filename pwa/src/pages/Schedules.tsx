// /schedules — who is on call: for each schedule, who is on now and next, a week of shifts, and
// "I'll cover tonight" (two taps: the offer, then the confirmation) which adds an override for me.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { ProblemBox } from '../components/Problem';
import { useAction, useTitle } from '../hooks';
import { currentUser } from '../session';

interface Schedule { id: number; name: string; timezone: string }
interface Shift { user_id: number; name: string; starts_at: string; ends_at: string; override?: boolean }
interface OnCall { at: string; users: Array<{ id: number; name: string }> }

const DAY_MS = 86_400_000;

/** Tonight on this device: from 18:00 (or now, if later) to 09:00 tomorrow. */
export function tonight(now = new Date()): { starts_at: string; ends_at: string } {
  const start = new Date(now);
  start.setHours(18, 0, 0, 0);
  const end = new Date(now);
  end.setDate(end.getDate() + (now.getHours() < 9 ? 0 : 1));
  end.setHours(9, 0, 0, 0);
  const from = now.getHours() < 9 || now > start ? now : start;
  return { starts_at: from.toISOString(), ends_at: end.toISOString() };
}

function fmt(iso: string, tz: string, opts: Intl.DateTimeFormatOptions) {
  return new Intl.DateTimeFormat(undefined, { timeZone: tz, ...opts }).format(new Date(iso));
}

function ScheduleCard({ s, reload }: { s: Schedule; reload: number }) {
  const me = currentUser();
  const [now, setNow] = useState<OnCall | null>(null);
  const [shifts, setShifts] = useState<Shift[] | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const { busy, error, run } = useAction();
  const load = useAction();

  useEffect(() => {
    const from = new Date();
    from.setHours(0, 0, 0, 0);
    const to = new Date(from.getTime() + 7 * DAY_MS);
    void load.run(async () => {
      const [o, sh] = await Promise.all([
        api.get<OnCall>(`/v1/schedules/${s.id}/oncall`),
        api.get<{ items: Shift[] }>(`/v1/schedules/${s.id}/shifts?from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`),
      ]);
      setNow(o);
      setShifts(sh.items);
    });
  }, [s.id, reload, tick]);

  const nowMs = Date.now();
  const onIds = new Set(now?.users.map((u) => u.id) ?? []);
  const next = shifts?.find((x) => Date.parse(x.starts_at) > nowMs && !onIds.has(x.user_id)) ?? null;
  const days = Array.from({ length: 7 }, (_, i) => {
    const d = new Date();
    d.setHours(0, 0, 0, 0);
    d.setDate(d.getDate() + i);
    return d;
  });

  async function cover() {
    if (!me) return;
    const t = tonight();
    const ok = await run(() => api.post(`/v1/schedules/${s.id}/overrides`, { user_id: me.id, ...t }));
    if (ok !== undefined) {
      setConfirming(false);
      setDone(`You cover ${s.name} until ${fmt(t.ends_at, Intl.DateTimeFormat().resolvedOptions().timeZone, { weekday: 'short', hour: '2-digit', minute: '2-digit' })}.`);
      setTick((x) => x + 1);
    }
  }

  const headingId = `sched-${s.id}`;
  return (
    <section class="panel" aria-labelledby={headingId}>
      <h2 id={headingId}>{s.name}</h2>
      <p class="hint">Times in {s.timezone}.</p>
      <ProblemBox error={load.error} title="The schedule could not be loaded" />
      <dl class="meta-list">
        <div>
          <dt>On call now</dt>
          <dd>{now ? (now.users.length ? now.users.map((u) => u.name).join(', ') : 'Nobody') : '…'}</dd>
        </div>
        <div>
          <dt>Next</dt>
          <dd>{next ? `${next.name}, from ${fmt(next.starts_at, s.timezone, { weekday: 'short', hour: '2-digit', minute: '2-digit' })}` : shifts ? 'Nobody this week' : '…'}</dd>
        </div>
      </dl>
      {me && !confirming && (
        <button type="button" class="btn primary" onClick={() => { setDone(null); setConfirming(true); }}>
          I'll cover tonight
        </button>
      )}
      {me && confirming && (
        <div role="group" aria-label={`Cover ${s.name} tonight`}>
          <p>You will be on call for {s.name} from {fmt(tonight().starts_at, s.timezone, { hour: '2-digit', minute: '2-digit' })} until {fmt(tonight().ends_at, s.timezone, { weekday: 'short', hour: '2-digit', minute: '2-digit' })}.</p>
          <button type="button" class="btn primary" disabled={busy} aria-busy={busy} onClick={() => void cover()}>
            Confirm cover
          </button>{' '}
          <button type="button" class="btn ghost" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
      )}
      <ProblemBox error={error} title="The cover was not saved" />
      {done && <p role="status">{done}</p>}
      {shifts && (
        <div class="table-wrap" tabIndex={0} role="region" aria-label={`${s.name}: this week`}>
          <table class="table">
            <caption class="sr-only">{s.name}: who is on call each day this week</caption>
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col">On call</th>
              </tr>
            </thead>
            <tbody>
              {days.map((d) => {
                const a = d.getTime();
                const b = a + DAY_MS;
                const todays = shifts.filter((x) => Date.parse(x.starts_at) < b && Date.parse(x.ends_at) > a);
                return (
                  <tr key={a}>
                    <th scope="row">{d.toLocaleDateString(undefined, { weekday: 'short', day: 'numeric', month: 'short' })}</th>
                    <td>
                      {todays.length
                        ? todays.map((x) => {
                            const hm = (iso: string) => fmt(iso, s.timezone, { hour: '2-digit', minute: '2-digit' });
                            const from = Date.parse(x.starts_at) >= a ? ` from ${hm(x.starts_at)}` : '';
                            const until = Date.parse(x.ends_at) <= b ? ` until ${hm(x.ends_at)}` : '';
                            return `${x.name}${from}${until}${!from && !until ? ' all day' : ''}${x.override ? ' (cover)' : ''}`;
                          }).join('; ')
                        : 'Nobody'}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export default function SchedulesPage() {
  useTitle('On call');
  const [items, setItems] = useState<Schedule[] | null>(null);
  const { error, run } = useAction();
  useEffect(() => {
    void run(async () => setItems((await api.get<{ items: Schedule[] }>('/v1/schedules')).items));
  }, []);
  return (
    <section class="page" aria-labelledby="oncall-title">
      <h1 id="oncall-title">On call</h1>
      <ProblemBox error={error} title="Schedules could not be loaded" />
      {!items && !error && <p class="loading" role="status">Loading…</p>}
      {items && !items.length && <p>No schedules yet. An admin creates them with <code>POST /v1/schedules</code>.</p>}
      {items?.map((s) => <ScheduleCard key={s.id} s={s} reload={0} />)}
    </section>
  );
}
