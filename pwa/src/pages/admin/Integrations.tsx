// /integrations — the tools that page Herald (PagerDuty-speaking senders, Alertmanager, Grafana) and the
// heartbeat monitors: create one (the exact URL or routing key to paste into the other tool is shown once),
// rotate its key, delete it, and see the last events it sent with what became of each.
import { Fragment, type JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../../api';
import { ProblemBox } from '../../components/Problem';
import { useReloadingAction, useTitle } from '../../hooks';
import { Link } from '../../router';
import { ago } from '../../time';

type Kind = 'pagerduty' | 'alertmanager' | 'grafana' | 'heartbeat';

interface Integration {
  id: number; name: string; kind: Kind; category: string; key_prefix: string; last_event_at: string | null;
}
interface Heartbeat {
  id: number; name: string; category: string; interval_seconds: number; grace_seconds: number; state: 'new' | 'up' | 'down';
  last_ping_at: string | null; due_at: string; key_prefix: string;
}
interface ReceivedEvent {
  id: number; status: string; alert_id: number | null; title: string; type: string; action: string; severity: string; received_at: string;
  maintenance_id: number | null;
}
/** What the server shows once: the key and where to send. */
interface Secret { id: number; name: string; kind: Kind; key: string; url: string; routing_key?: string }

const KIND_LABEL: Record<Kind, string> = { pagerduty: 'PagerDuty Events API v2', alertmanager: 'Prometheus Alertmanager', grafana: 'Grafana alerting', heartbeat: 'Heartbeat' };

const duration = (s: number) => (s % 3600 === 0 && s >= 3600 ? `${s / 3600} h` : s % 60 === 0 && s >= 60 ? `${s / 60} min` : `${s} s`);

/** The one-time panel: exactly what to paste into the other tool. */
function SecretPanel({ secret, onClose }: { secret: Secret; onClose: () => void }) {
  const how: Record<Kind, string> = {
    pagerduty: 'In the tool\'s PagerDuty settings, use this integration (routing) key, and point its Events API URL at Herald:',
    alertmanager: 'In alertmanager.yml, add a receiver with webhook_configs and this url:',
    grafana: 'In Grafana, add a contact point of type Webhook with this URL (method POST):',
    heartbeat: 'Ping this URL from your job (GET or POST), e.g. at the end of the cron line:',
  };
  return (
    <section class="panel" role="status" aria-labelledby="secret-title">
      <h2 id="secret-title">{secret.name}: copy this now</h2>
      <p>It is shown once; rotate the key to get a new one.</p>
      <p>{how[secret.kind]}</p>
      {secret.routing_key && (
        <p>
          Routing key: <code class="secret" data-testid="routing-key">{secret.routing_key}</code>
        </p>
      )}
      <p>
        URL: <code class="secret" data-testid="endpoint-url">{secret.url}</code>
      </p>
      {secret.kind === 'alertmanager' && <pre class="mono">{`receivers:\n  - name: herald\n    webhook_configs:\n      - url: ${secret.url}\n        send_resolved: true`}</pre>}
      {secret.kind === 'pagerduty' && <pre class="mono">{`# Alertmanager, through its PagerDuty integration:\npagerduty_configs:\n  - routing_key: ${secret.key}\n    url: ${secret.url}`}</pre>}
      {secret.kind === 'heartbeat' && <pre class="mono">{`0 2 * * * /usr/local/bin/backup && curl -fsS ${secret.url}`}</pre>}
      <button type="button" class="btn small" onClick={onClose}>
        Done
      </button>
    </section>
  );
}

/** The last events an integration sent, with how each was mapped and what became of it. */
function RecentEvents({ id }: { id: number }) {
  const [items, setItems] = useState<ReceivedEvent[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    api.get<{ items: ReceivedEvent[] }>(`/v1/integrations/${id}/events`).then((r) => setItems(r.items), setError);
  }, [id]);
  if (error) return <ProblemBox error={error} title="The events could not be loaded" />;
  if (!items) return <p class="loading" role="status">Loading…</p>;
  if (!items.length) return <p class="hint">No event received yet.</p>;
  return (
    <div class="table-wrap">
    <table class="table" aria-label="Last events received">
      <thead>
        <tr>
          <th scope="col">Received</th>
          <th scope="col">Event</th>
          <th scope="col">Mapped to</th>
          <th scope="col">Status</th>
        </tr>
      </thead>
      <tbody>
        {items.map((e) => (
          <tr key={e.id}>
            <td>{ago(e.received_at)}</td>
            <td>{e.title}</td>
            <td>
              <code>{e.type}</code> · {e.severity} · {e.action}
            </td>
            <td>
              <span class={`chip status-${e.status}`}>{e.status}</span>{' '}
              {e.alert_id && <Link href={`/alerts/${e.alert_id}`}>Alert #{e.alert_id}</Link>}
              {e.maintenance_id && <span class="hint"> by maintenance window #{e.maintenance_id}</span>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
    </div>
  );
}

export default function IntegrationsPage() {
  useTitle('Integrations');
  const [integrations, setIntegrations] = useState<Integration[] | null>(null);
  const [heartbeats, setHeartbeats] = useState<Heartbeat[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [secret, setSecret] = useState<Secret | null>(null);
  const [open, setOpen] = useState<number | null>(null);
  // New integration
  const [name, setName] = useState('');
  const [kind, setKind] = useState<Kind>('alertmanager');
  const [category, setCategory] = useState('monitoring');
  // New heartbeat
  const [hbName, setHbName] = useState('');
  const [hbInterval, setHbInterval] = useState('1440');
  const [hbGrace, setHbGrace] = useState('30');
  const [hbCategory, setHbCategory] = useState('heartbeat');

  async function load() {
    try {
      const [i, hb] = await Promise.all([
        api.get<{ items: Integration[] }>('/v1/integrations'),
        api.get<{ items: Heartbeat[] }>('/v1/heartbeats'),
      ]);
      setIntegrations(i.items.filter((x) => x.kind !== 'heartbeat'));
      setHeartbeats(hb.items);
    } catch (e) {
      setError(e);
    }
  }
  const { busy, error: actionError, run } = useReloadingAction(load);

  const createIntegration = (e: Event) => {
    e.preventDefault();
    run(async () => {
      const r = await api.post<Secret & Integration>('/v1/integrations', { name: name.trim(), kind, category: category.trim() });
      setSecret({ id: r.id, name: r.name, kind: r.kind, key: r.key, url: r.url, routing_key: r.routing_key });
      setName('');
    });
  };
  const createHeartbeat = (e: Event) => {
    e.preventDefault();
    run(async () => {
      const r = await api.post<Heartbeat & { key: string; ping_url: string }>('/v1/heartbeats', {
        name: hbName.trim(), interval_seconds: Math.round(Number(hbInterval) * 60), grace_seconds: Math.round(Number(hbGrace) * 60),
        category: hbCategory.trim(),
      });
      setSecret({ id: r.id, name: r.name, kind: 'heartbeat', key: r.key, url: r.ping_url });
      setHbName('');
    });
  };
  const rotate = (x: { id: number; name: string }, isHeartbeat: boolean) =>
    run(async () => {
      if (!confirm(`Rotate the key of ${x.name}? The current ${isHeartbeat ? 'ping URL' : 'key'} stops working at once.`)) return;
      if (isHeartbeat) {
        const r = await api.post<{ id: number; key: string; ping_url: string }>(`/v1/heartbeats/${x.id}/rotate`);
        setSecret({ id: r.id, name: x.name, kind: 'heartbeat', key: r.key, url: r.ping_url });
      } else {
        const r = await api.post<Secret & Integration>(`/v1/integrations/${x.id}/rotate`);
        setSecret({ id: r.id, name: r.name, kind: r.kind, key: r.key, url: r.url, routing_key: r.routing_key });
      }
    });
  const remove = (x: { id: number; name: string }, isHeartbeat: boolean) =>
    run(async () => {
      if (!confirm(`Delete ${x.name}? Its key stops working; the events it sent stay.`)) return;
      await api.del(isHeartbeat ? `/v1/heartbeats/${x.id}` : `/v1/integrations/${x.id}`);
      if (secret?.id === x.id) setSecret(null);
    });

  const row = (x: { id: number; name: string }, isHeartbeat: boolean, cells: JSX.Element) => (
    <Fragment key={x.id}>
      <tr>
        <th scope="row">{x.name}</th>
        {cells}
        <td class="actions">
          <button type="button" class="btn small" aria-expanded={open === x.id} onClick={() => setOpen(open === x.id ? null : x.id)}>
            {open === x.id ? 'Hide events' : 'Events'}
          </button>
          <button type="button" class="btn small" disabled={busy} onClick={() => rotate(x, isHeartbeat)}>
            Rotate key
          </button>
          <button type="button" class="btn small danger" disabled={busy} onClick={() => remove(x, isHeartbeat)}>
            Delete
          </button>
        </td>
      </tr>
      {open === x.id && (
        <tr>
          <td colSpan={6}>
            <RecentEvents id={x.id} />
          </td>
        </tr>
      )}
    </Fragment>
  );

  return (
    <section class="page integrations" aria-labelledby="integrations-title">
      <h1 id="integrations-title">Integrations</h1>
      <p class="sub">
        Tools that page Herald, and heartbeats that page when a job stops reporting. For “this should have happened by now” and planned quiet
        periods, see <Link href="/expectations">Expectations and maintenance</Link>.
      </p>
      <ProblemBox error={error} title="Integrations could not be loaded" />
      <ProblemBox error={actionError} title="That did not work" />
      {secret && <SecretPanel secret={secret} onClose={() => setSecret(null)} />}
      {!integrations && !error && <p class="loading" role="status">Loading…</p>}

      {integrations && (
        <section aria-labelledby="tools-title">
          <h2 id="tools-title">Tools</h2>
          {integrations.length === 0 ? (
            <p class="hint">No integration yet: add one below.</p>
          ) : (
            <div class="table-wrap">
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Speaks</th>
                  <th scope="col">Category</th>
                  <th scope="col">Key</th>
                  <th scope="col">Last event</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {integrations.map((x) =>
                  row(x, false, (
                    <>
                      <td>{KIND_LABEL[x.kind]}</td>
                      <td><code>{x.category}</code></td>
                      <td><code>{x.key_prefix}…</code></td>
                      <td>{x.last_event_at ? ago(x.last_event_at) : 'never'}</td>
                    </>
                  )),
                )}
              </tbody>
            </table>
            </div>
          )}
        </section>
      )}

      {heartbeats && (
        <section aria-labelledby="heartbeats-title">
          <h2 id="heartbeats-title">Heartbeats</h2>
          {heartbeats.length === 0 ? (
            <p class="hint">No heartbeat yet.</p>
          ) : (
            <div class="table-wrap">
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">State</th>
                  <th scope="col">Every (grace)</th>
                  <th scope="col">Category</th>
                  <th scope="col">Last ping</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {heartbeats.map((x) =>
                  row(x, true, (
                    <>
                      <td>
                        <span class={`chip ${x.state === 'down' ? 'status-triggered' : x.state === 'up' ? 'status-resolved' : 'status-pending'}`}>
                          {x.state === 'down' ? 'Missed' : x.state === 'up' ? 'Up' : 'Waiting for first ping'}
                        </span>
                      </td>
                      <td>{duration(x.interval_seconds)} ({duration(x.grace_seconds)})</td>
                      <td><code>{x.category}</code></td>
                      <td>{x.last_ping_at ? ago(x.last_ping_at) : 'never'}</td>
                    </>
                  )),
                )}
              </tbody>
            </table>
            </div>
          )}
        </section>
      )}

      <section class="panel" aria-labelledby="new-integration-title">
        <h2 id="new-integration-title">Add a tool</h2>
        <form class="form" onSubmit={createIntegration}>
          <div class="row">
            <div class="field">
              <label for="int-name">Name</label>
              <input id="int-name" required maxLength={200} value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
            </div>
            <div class="field">
              <label for="int-kind">Speaks</label>
              <select id="int-kind" value={kind} onChange={(e) => setKind((e.currentTarget as HTMLSelectElement).value as Kind)}>
                <option value="alertmanager">{KIND_LABEL.alertmanager}</option>
                <option value="grafana">{KIND_LABEL.grafana}</option>
                <option value="pagerduty">{KIND_LABEL.pagerduty}</option>
              </select>
            </div>
            <div class="field">
              <label for="int-category">Category of its events</label>
              <input id="int-category" required pattern="[a-z0-9][a-z0-9_.\-]*" value={category} onInput={(e) => setCategory((e.currentTarget as HTMLInputElement).value)} />
            </div>
          </div>
          <button type="submit" class="btn primary" disabled={busy} aria-busy={busy}>
            Add tool
          </button>
        </form>
      </section>

      <section class="panel" aria-labelledby="new-heartbeat-title">
        <h2 id="new-heartbeat-title">Add a heartbeat</h2>
        <form class="form" onSubmit={createHeartbeat}>
          <div class="row">
            <div class="field">
              <label for="hb-name">Name</label>
              <input id="hb-name" required maxLength={200} value={hbName} onInput={(e) => setHbName((e.currentTarget as HTMLInputElement).value)} />
            </div>
            <div class="field">
              <label for="hb-interval">Expected every (minutes)</label>
              <input id="hb-interval" type="number" min="1" step="any" required value={hbInterval} onInput={(e) => setHbInterval((e.currentTarget as HTMLInputElement).value)} />
            </div>
            <div class="field">
              <label for="hb-grace">Grace (minutes)</label>
              <input id="hb-grace" type="number" min="0" step="any" required value={hbGrace} onInput={(e) => setHbGrace((e.currentTarget as HTMLInputElement).value)} />
            </div>
            <div class="field">
              <label for="hb-category">Category</label>
              <input id="hb-category" required pattern="[a-z0-9][a-z0-9_.\-]*" value={hbCategory} onInput={(e) => setHbCategory((e.currentTarget as HTMLInputElement).value)} />
            </div>
          </div>
          <button type="submit" class="btn primary" disabled={busy} aria-busy={busy}>
            Add heartbeat
          </button>
        </form>
      </section>
    </section>
  );
}
