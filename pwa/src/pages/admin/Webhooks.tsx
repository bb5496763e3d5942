// /webhooks — outbound webhook subscriptions over the existing API (/v1/webhooks): create one (its whsec_ secret is
// shown once), enable or disable it, send a test event, and read its delivery log with a retry per delivery.
import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../../api';
import { ProblemBox } from '../../components/Problem';
import { useAction, useTitle } from '../../hooks';
import { ago } from '../../time';

const EVENT_TYPES = ['alert.triggered', 'alert.acknowledged', 'alert.escalated', 'alert.snoozed', 'alert.reopened', 'alert.resolved'];

interface Webhook {
  id: number; url: string; events: string[]; description: string | null; enabled: boolean; disabled_reason: string | null;
  created_at: string; updated_at: string;
}
interface Delivery {
  id: number; msg_id: string; event_type: string; alert_id: number | null; status: string; attempts: number;
  response_status: number | null; last_error: string | null; duration_ms: number | null; created_at: string;
  last_attempt_at: string | null; next_attempt_at: string | null; delivered_at: string | null;
}

/** The delivery log of one webhook, newest first, with a retry for each delivery. */
function Deliveries({ webhook, refresh }: { webhook: Webhook; refresh: number }) {
  const [items, setItems] = useState<Delivery[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const { busy, error: retryError, run } = useAction();
  const [note, setNote] = useState<string | null>(null);
  const load = () => api.get<{ items: Delivery[] }>(`/v1/webhooks/${webhook.id}/deliveries`).then((r) => setItems(r.items), setError);
  useEffect(() => {
    load();
    // Deliveries move on their own (attempts, retries): the log follows them while it is open.
    const t = setInterval(load, 2000);
    return () => clearInterval(t);
  }, [webhook.id, refresh]);
  const retry = (d: Delivery) =>
    run(async () => {
      await api.post(`/v1/webhooks/${webhook.id}/deliveries/${d.id}/retry`);
      setNote(`Delivery ${d.msg_id} goes out again now.`);
      await load();
    });
  if (error) return <ProblemBox error={error} title="The deliveries could not be loaded" />;
  if (!items) return <p class="loading" role="status">Loading…</p>;
  return (
    <section aria-label={`Deliveries to ${webhook.url}`}>
      <ProblemBox error={retryError} title="The delivery was not retried" />
      {note && <p role="status">{note}</p>}
      {!items.length ? (
        <p class="hint">No delivery yet. Send a test to see one.</p>
      ) : (
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Delivery log">
          <table class="table">
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Response</th>
                <th scope="col">Sent</th>
                <th scope="col">Retry</th>
              </tr>
            </thead>
            <tbody>
              {items.map((d) => (
                <tr key={d.id}>
                  <th scope="row">
                    <code>{d.event_type}</code>
                  </th>
                  <td>
                    <span class={`chip status-${d.status}`}>{d.status}</span>
                  </td>
                  <td>{d.attempts}</td>
                  <td>{d.response_status ?? d.last_error ?? '—'}</td>
                  <td>{ago(d.last_attempt_at ?? d.created_at)}</td>
                  <td>
                    <button type="button" class="btn small" disabled={busy} onClick={() => retry(d)} aria-label={`Retry delivery ${d.msg_id}`}>
                      Retry
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export default function WebhooksPage() {
  useTitle('Webhooks');
  const [hooks, setHooks] = useState<Webhook[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [secret, setSecret] = useState<{ url: string; secret: string } | null>(null);
  const [open, setOpen] = useState<number | null>(null);
  const [refresh, setRefresh] = useState(0);
  const [status, setStatus] = useState<string | null>(null);
  const { busy, error: actionError, run } = useAction();
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [events, setEvents] = useState<string[]>([]);

  const load = () => api.get<{ items: Webhook[] }>('/v1/webhooks').then((r) => setHooks(r.items.filter((w) => w.disabled_reason !== 'deleted')), setError);
  useEffect(() => {
    load();
  }, []);

  const create = (e: Event) => {
    e.preventDefault();
    run(async () => {
      const w = await api.post<Webhook & { secret: string }>('/v1/webhooks', {
        url: url.trim(), events: events.length ? events : ['*'], ...(description.trim() ? { description: description.trim() } : {}),
      });
      setSecret({ url: w.url, secret: w.secret });
      setUrl('');
      setDescription('');
      setEvents([]);
      await load();
    });
  };
  const toggle = (w: Webhook) =>
    run(async () => {
      await api.patch(`/v1/webhooks/${w.id}`, { enabled: !w.enabled });
      setStatus(`${w.url} is ${w.enabled ? 'disabled' : 'enabled'}.`);
      await load();
    });
  const test = (w: Webhook) =>
    run(async () => {
      await api.post(`/v1/webhooks/${w.id}/test`);
      setStatus(`A test event is on its way to ${w.url}.`);
      setOpen(w.id);
      setRefresh((n) => n + 1);
    });

  return (
    <section class="page" aria-labelledby="webhooks-title">
      <h1 id="webhooks-title">Webhooks</h1>
      <p class="hint">Herald posts each alert change to these URLs, signed per Standard Webhooks with the subscription's secret.</p>
      <ProblemBox error={error} title="Webhooks could not be loaded" />
      <ProblemBox error={actionError} title="That did not work" />
      {status && <p role="status">{status}</p>}
      {secret && (
        <section class="panel" role="status" aria-labelledby="secret-title">
          <h2 id="secret-title">Copy the signing secret now</h2>
          <p>It is shown once. The receiver at {secret.url} verifies each delivery with it.</p>
          <p>
            Secret: <code class="secret" data-testid="webhook-secret">{secret.secret}</code>
          </p>
          <button type="button" class="btn small" onClick={() => setSecret(null)}>
            Done
          </button>
        </section>
      )}
      {!hooks && !error && (
        <p class="loading" role="status">
          Loading…
        </p>
      )}
      {hooks && !hooks.length && <p class="hint">No webhook yet.</p>}
      {hooks && hooks.length > 0 && (
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Webhooks table">
          <table class="table">
            <thead>
              <tr>
                <th scope="col">URL</th>
                <th scope="col">Events</th>
                <th scope="col">State</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {hooks.map((w) => (
                <Fragment key={w.id}>
                  <tr>
                    <th scope="row">
                      {w.url}
                      {w.description && <span class="hint"> — {w.description}</span>}
                    </th>
                    <td>{w.events.includes('*') ? 'All alert events' : w.events.join(', ')}</td>
                    <td>
                      <span class={`chip ${w.enabled ? 'status-acknowledged' : 'status-pending'}`}>{w.enabled ? 'Enabled' : 'Disabled'}</span>
                      {!w.enabled && w.disabled_reason && <span class="hint"> {w.disabled_reason}</span>}
                    </td>
                    <td class="actions">
                      <button type="button" class="btn small" aria-expanded={open === w.id} onClick={() => setOpen(open === w.id ? null : w.id)}>
                        {open === w.id ? 'Hide deliveries' : 'Deliveries'}
                      </button>
                      <button type="button" class="btn small" disabled={busy} onClick={() => test(w)}>
                        Send test
                      </button>
                      <button type="button" class="btn small" disabled={busy} onClick={() => toggle(w)}>
                        {w.enabled ? 'Disable' : 'Enable'}
                      </button>
                    </td>
                  </tr>
                  {open === w.id && (
                    <tr>
                      <td colSpan={4}>
                        <Deliveries webhook={w} refresh={refresh} />
                      </td>
                    </tr>
                  )}
                </Fragment>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <section class="panel" aria-labelledby="new-webhook-title">
        <h2 id="new-webhook-title">Add a webhook</h2>
        <form class="form" onSubmit={create}>
          <div class="field">
            <label for="wh-url">URL</label>
            <input id="wh-url" type="url" required autocomplete="off" value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
          </div>
          <div class="field">
            <label for="wh-description">Description</label>
            <input id="wh-description" autocomplete="off" value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
          </div>
          <fieldset class="checks">
            <legend>Events (none ticked: all)</legend>
            {EVENT_TYPES.map((t) => (
              <label class="check" key={t}>
                <input
                  type="checkbox"
                  checked={events.includes(t)}
                  onChange={(e) => setEvents((cur) => (e.currentTarget.checked ? [...cur, t] : cur.filter((x) => x !== t)))}
                />
                {t}
              </label>
            ))}
          </fieldset>
          <button type="submit" class="btn primary" disabled={busy} aria-busy={busy}>
            Add webhook
          </button>
        </form>
      </section>
    </section>
  );
}
