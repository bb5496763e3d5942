// /expectations — "this should have happened by now" and maintenance windows, for admins: list, add and
// delete expectations (pause or resume one), list, add and delete maintenance windows (one-off or recurring,
// optionally pausing the escalation of alerts already open), and see the events the windows suppressed.
import { useState } from 'preact/hooks';
import { api } from '../../api';
import { ProblemBox } from '../../components/Problem';
import { useReloadingAction, useTitle } from '../../hooks';
import { Link } from '../../router';
import { ago } from '../../time';

interface Kind { category: string; type: string }
interface Expectation {
  id: number; name: string; after: Kind; expect: Kind[]; within_minutes: number; same: 'entity' | 'dedup_key';
  then: Kind & { severity: string; title: string }; enabled: boolean;
}
interface Window {
  id: number; name: string; starts_at: string | null; ends_at: string | null; cron: string | null; duration_minutes: number | null;
  match: { category?: string; type?: string; conditions?: unknown[] }; pause_escalation: boolean; active: boolean;
}
interface SuppressedEvent { id: number; title: string; category: string; type: string; received_at: string; maintenance_id: number | null }

const kindText = (k: Kind) => `${k.category}/${k.type}`;
const SLUG = '[a-z0-9][a-z0-9_.\\-]*';

/** "90" → "1 h 30 min"; fractions of a minute as seconds. */
export function minutesText(m: number): string {
  if (m < 1) return `${Math.round(m * 60)} s`;
  const d = Math.floor(m / 1440);
  const h = Math.floor((m % 1440) / 60);
  const min = Math.round(m % 60);
  return [d ? `${d} d` : '', h ? `${h} h` : '', min ? `${min} min` : ''].filter(Boolean).join(' ') || '0 min';
}

/** Parses "sales/lead_contacted, sales/lead_disqualified" into kinds; null when a part is not category/type. */
function parseKinds(s: string): Kind[] | null {
  const parts = s.split(',').map((x) => x.trim()).filter(Boolean);
  const kinds = parts.map((p) => {
    const [category, type, ...rest] = p.split('/');
    return category && type && !rest.length ? { category, type } : null;
  });
  return kinds.length && kinds.every(Boolean) ? (kinds as Kind[]) : null;
}

const local = (iso: string) => new Date(iso).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });

function whenText(w: Window): string {
  if (w.cron) {
    const bounds = [w.starts_at ? `from ${local(w.starts_at)}` : '', w.ends_at ? `until ${local(w.ends_at)}` : ''].filter(Boolean).join(' ');
    return `Every "${w.cron}" (UTC) for ${minutesText(w.duration_minutes ?? 0)}${bounds ? `, ${bounds}` : ''}`;
  }
  return `${w.starts_at ? local(w.starts_at) : '…'} – ${w.ends_at ? local(w.ends_at) : '…'}`;
}

function matchText(m: Window['match']): string {
  const parts = [m.category ? `category ${m.category}` : '', m.type ? `type ${m.type}` : '', m.conditions?.length ? `${m.conditions.length} condition${m.conditions.length === 1 ? '' : 's'}` : ''].filter(Boolean);
  return parts.length ? parts.join(', ') : 'every event';
}

export default function ExpectationsPage() {
  useTitle('Expectations and maintenance');
  const [expectations, setExpectations] = useState<Expectation[] | null>(null);
  const [windows, setWindows] = useState<Window[] | null>(null);
  const [suppressed, setSuppressed] = useState<SuppressedEvent[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  // New expectation
  const [xName, setXName] = useState('');
  const [xAfter, setXAfter] = useState('');
  const [xExpect, setXExpect] = useState('');
  const [xWithin, setXWithin] = useState('60');
  const [xSame, setXSame] = useState<'entity' | 'dedup_key'>('entity');
  const [xThen, setXThen] = useState('');
  const [xSeverity, setXSeverity] = useState('warning');
  const [xTitle, setXTitle] = useState('');
  const [xProblem, setXProblem] = useState('');
  // New window
  const [wName, setWName] = useState('');
  const [wRecurring, setWRecurring] = useState(false);
  const [wStart, setWStart] = useState('');
  const [wEnd, setWEnd] = useState('');
  const [wCron, setWCron] = useState('0 2 * * *');
  const [wDuration, setWDuration] = useState('60');
  const [wCategory, setWCategory] = useState('');
  const [wType, setWType] = useState('');
  const [wPause, setWPause] = useState(false);

  async function load() {
    try {
      const [x, w, s] = await Promise.all([
        api.get<{ items: Expectation[] }>('/v1/expectations'),
        api.get<{ items: Window[] }>('/v1/maintenance'),
        api.get<{ items: SuppressedEvent[] }>('/v1/events?status=suppressed&limit=20'),
      ]);
      setExpectations(x.items);
      setWindows(w.items);
      setSuppressed(s.items.filter((e) => e.maintenance_id !== null));
    } catch (e) {
      setError(e);
    }
  }
  const { busy, error: actionError, run } = useReloadingAction(load);

  const addExpectation = (e: Event) => {
    e.preventDefault();
    const after = parseKinds(xAfter);
    const expect = parseKinds(xExpect);
    const then = parseKinds(xThen);
    if (!after || after.length !== 1) return setXProblem('“After” is one category/type, e.g. sales/lead_created.');
    if (!expect) return setXProblem('“Expect” is one or more category/type, separated by commas.');
    if (!then || then.length !== 1) return setXProblem('“Else post” is one category/type, e.g. sales/lead_not_contacted.');
    setXProblem('');
    run(async () => {
      await api.post('/v1/expectations', {
        name: xName.trim(), after: after[0], expect, within_minutes: Number(xWithin), same: xSame,
        then: { ...then[0], severity: xSeverity, title: xTitle.trim() },
      });
      setXName('');
      setXTitle('');
    });
  };
  const toggle = (x: Expectation) => run(async () => { await api.patch(`/v1/expectations/${x.id}`, { enabled: !x.enabled }); });
  const removeExpectation = (x: Expectation) => run(async () => {
    if (!confirm(`Delete the expectation “${x.name}”? Its running timers post nothing.`)) return;
    await api.del(`/v1/expectations/${x.id}`);
  });

  const addWindow = (e: Event) => {
    e.preventDefault();
    const match = { ...(wCategory.trim() ? { category: wCategory.trim() } : {}), ...(wType.trim() ? { type: wType.trim() } : {}) };
    run(async () => {
      await api.post('/v1/maintenance', {
        name: wName.trim(), match, pause_escalation: wPause,
        ...(wRecurring
          ? { cron: wCron.trim(), duration_minutes: Number(wDuration) }
          : { starts_at: wStart ? new Date(wStart).toISOString() : null, ends_at: wEnd ? new Date(wEnd).toISOString() : null }),
      });
      setWName('');
    });
  };
  const removeWindow = (w: Window) => run(async () => {
    if (!confirm(`Delete the maintenance window “${w.name}”? Matching events notify again at once${w.pause_escalation ? ' and paused alerts escalate' : ''}.`)) return;
    await api.del(`/v1/maintenance/${w.id}`);
  });
  const windowName = (id: number | null) => windows?.find((w) => w.id === id)?.name ?? `#${id}`;

  return (
    <section class="page expectations" aria-labelledby="expectations-title">
      <h1 id="expectations-title">Expectations and maintenance</h1>
      <p class="sub">
        Alerts for what did <em>not</em> happen, and quiet windows for planned work. Tools and heartbeats are on <Link href="/integrations">Integrations</Link>.
      </p>
      <ProblemBox error={error} title="This page could not be loaded" />
      <ProblemBox error={actionError} title="That did not work" />
      {!expectations && !error && <p class="loading" role="status">Loading…</p>}

      {expectations && (
        <section aria-labelledby="x-list-title">
          <h2 id="x-list-title">Expectations</h2>
          {expectations.length === 0 ? (
            <p class="hint">No expectation yet. Example: after sales/lead_created, expect sales/lead_contacted within 60 minutes.</p>
          ) : (
            <ul class="cards" aria-label="Expectations">
              {expectations.map((x) => (
                <li key={x.id} class="card">
                  <h3>
                    {x.name} {!x.enabled && <span class="chip status-pending">Paused</span>}
                  </h3>
                  <p>
                    After <code>{kindText(x.after)}</code>, expect {x.expect.map((k, i) => <span key={i}>{i > 0 && ' or '}<code>{kindText(k)}</code></span>)} for the
                    same {x.same === 'entity' ? 'entity' : 'dedup key'} within {minutesText(x.within_minutes)}; else post <code>{kindText(x.then)}</code> “{x.then.title}” ({x.then.severity}).
                  </p>
                  <div class="actions">
                    <button type="button" class="btn small" disabled={busy} onClick={() => toggle(x)}>
                      {x.enabled ? 'Pause' : 'Resume'}
                    </button>
                    <button type="button" class="btn small danger" disabled={busy} onClick={() => removeExpectation(x)}>
                      Delete
                    </button>
                  </div>
                </li>
              ))}
            </ul>
          )}
        </section>
      )}

      {windows && (
        <section aria-labelledby="w-list-title">
          <h2 id="w-list-title">Maintenance windows</h2>
          {windows.length === 0 ? (
            <p class="hint">No maintenance window. Events that match an open window are kept as suppressed and notify nobody.</p>
          ) : (
            <ul class="cards" aria-label="Maintenance windows">
              {windows.map((w) => (
                <li key={w.id} class="card">
                  <h3>
                    {w.name} {w.active ? <span class="chip status-acknowledged">Open now</span> : <span class="chip">Closed</span>}
                  </h3>
                  <p>{whenText(w)}</p>
                  <p>
                    Matches {matchText(w.match)}. {w.pause_escalation ? 'Open alerts it matches stop escalating until it closes.' : 'Open alerts keep escalating.'}
                  </p>
                  <div class="actions">
                    <button type="button" class="btn small danger" disabled={busy} onClick={() => removeWindow(w)}>
                      Delete
                    </button>
                  </div>
                </li>
              ))}
            </ul>
          )}
        </section>
      )}

      {suppressed && suppressed.length > 0 && (
        <section aria-labelledby="suppressed-title">
          <h2 id="suppressed-title">Suppressed lately</h2>
          <ul class="suppressed" aria-label="Suppressed events">
            {suppressed.map((e) => (
              <li key={e.id}>
                {ago(e.received_at)}: {e.title} <code>{e.category}/{e.type}</code> <span class="hint">by {windowName(e.maintenance_id)}</span>
              </li>
            ))}
          </ul>
        </section>
      )}

      <section class="panel" aria-labelledby="new-x-title">
        <h2 id="new-x-title">Add an expectation</h2>
        <form class="form" onSubmit={addExpectation}>
          <div class="field">
            <label for="x-name">Name</label>
            <input id="x-name" required maxLength={200} value={xName} onInput={(e) => setXName((e.currentTarget as HTMLInputElement).value)} />
          </div>
          <div class="row">
            <div class="field">
              <label for="x-after">After (category/type)</label>
              <input id="x-after" required placeholder="sales/lead_created" value={xAfter} onInput={(e) => setXAfter((e.currentTarget as HTMLInputElement).value)} />
            </div>
            <div class="field">
              <label for="x-expect">Expect one of (category/type, comma-separated)</label>
              <input id="x-expect" required placeholder="sales/lead_contacted" value={xExpect} onInput={(e) => setXExpect((e.currentTarget as HTMLInputElement).value)} />
            </div>
          </div>
          <div class="row">
            <div class="field">
              <label for="x-within">Within (minutes)</label>
              <input id="x-within" type="number" min="0.01" step="any" required value={xWithin} onInput={(e) => setXWithin((e.currentTarget as HTMLInputElement).value)} />
            </div>
            <div class="field">
              <label for="x-same">For the same</label>
              <select id="x-same" value={xSame} onChange={(e) => setXSame((e.currentTarget as HTMLSelectElement).value as 'entity' | 'dedup_key')}>
                <option value="entity">entity</option>
                <option value="dedup_key">dedup key</option>
              </select>
            </div>
          </div>
          <div class="row">
            <div class="field">
              <label for="x-then">Else post (category/type)</label>
              <input id="x-then" required placeholder="sales/lead_not_contacted" value={xThen} onInput={(e) => setXThen((e.currentTarget as HTMLInputElement).value)} />
            </div>
            <div class="field">
              <label for="x-severity">Severity</label>
              <select id="x-severity" value={xSeverity} onChange={(e) => setXSeverity((e.currentTarget as HTMLSelectElement).value)}>
                {['info', 'warning', 'error', 'critical'].map((s) => <option key={s} value={s}>{s}</option>)}
              </select>
            </div>
          </div>
          <div class="field">
            <label for="x-title">Title of the alert</label>
            <input id="x-title" required maxLength={500} placeholder="Lead not contacted within 60 minutes" value={xTitle} onInput={(e) => setXTitle((e.currentTarget as HTMLInputElement).value)} />
          </div>
          {xProblem && <p class="problem-inline" role="alert">{xProblem}</p>}
          <button type="submit" class="btn primary" disabled={busy} aria-busy={busy}>
            Add expectation
          </button>
        </form>
      </section>

      <section class="panel" aria-labelledby="new-w-title">
        <h2 id="new-w-title">Add a maintenance window</h2>
        <form class="form" onSubmit={addWindow}>
          <div class="field">
            <label for="w-name">Name</label>
            <input id="w-name" required maxLength={200} value={wName} onInput={(e) => setWName((e.currentTarget as HTMLInputElement).value)} />
          </div>
          <fieldset class="field checks">
            <legend>When</legend>
            <label class="check">
              <input type="radio" name="w-when" checked={!wRecurring} onChange={() => setWRecurring(false)} /> Once
            </label>{' '}
            <label class="check">
              <input type="radio" name="w-when" checked={wRecurring} onChange={() => setWRecurring(true)} /> Repeating
            </label>
          </fieldset>
          {wRecurring ? (
            <div class="row">
              <div class="field">
                <label for="w-cron">Starts (cron, UTC)</label>
                <input id="w-cron" required value={wCron} onInput={(e) => setWCron((e.currentTarget as HTMLInputElement).value)} />
              </div>
              <div class="field">
                <label for="w-duration">Lasts (minutes)</label>
                <input id="w-duration" type="number" min="1" step="any" required value={wDuration} onInput={(e) => setWDuration((e.currentTarget as HTMLInputElement).value)} />
              </div>
            </div>
          ) : (
            <div class="row">
              <div class="field">
                <label for="w-start">From</label>
                <input id="w-start" type="datetime-local" required value={wStart} onInput={(e) => setWStart((e.currentTarget as HTMLInputElement).value)} />
              </div>
              <div class="field">
                <label for="w-end">Until</label>
                <input id="w-end" type="datetime-local" required value={wEnd} onInput={(e) => setWEnd((e.currentTarget as HTMLInputElement).value)} />
              </div>
            </div>
          )}
          <div class="row">
            <div class="field">
              <label for="w-category">Category (empty: any)</label>
              <input id="w-category" pattern={SLUG} value={wCategory} onInput={(e) => setWCategory((e.currentTarget as HTMLInputElement).value)} />
            </div>
            <div class="field">
              <label for="w-type">Type (empty: any)</label>
              <input id="w-type" pattern={SLUG} value={wType} onInput={(e) => setWType((e.currentTarget as HTMLInputElement).value)} />
            </div>
          </div>
          <label class="check">
            <input type="checkbox" checked={wPause} onChange={(e) => setWPause((e.currentTarget as HTMLInputElement).checked)} /> Also pause the escalation of
            matching alerts already open
          </label>
          <button type="submit" class="btn primary" disabled={busy} aria-busy={busy}>
            Add window
          </button>
        </form>
      </section>
    </section>
  );
}
