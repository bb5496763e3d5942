// /api-keys — API keys: create one (the secret is shown once), set its rate limit, rotate it with an overlap
// window (the old secret keeps working until then; the new one is shown once), revoke it, and see its use per day
// by status class, when and from where it was last used.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../../api';
import { ProblemBox } from '../../components/Problem';
import { useAction, useTitle } from '../../hooks';
import { PERMISSIONS, PERMISSION_LABELS, type Permission } from '../../../../db/model/permissions';

interface ApiKey {
  id: number; name: string; prefix: string; scopes: string[]; expires_at: string | null; revoked_at: string | null;
  last_used_at: string | null; last_used_address: string | null; created_at: string; rate_limit_per_minute: number | null;
  rotated_at: string | null; previous_expires_at: string | null;
}
interface Usage { days: Array<{ date: string; requests: number; by_status: Record<string, number> }> }

const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : 'never');
const CLASSES = ['2xx', '3xx', '4xx', '5xx'] as const;

function SecretPanel({ name, secret, note, onClose }: { name: string; secret: string; note: string; onClose: () => void }) {
  return (
    <section class="panel" role="status" aria-labelledby="key-secret-title">
      <h2 id="key-secret-title">{name}: copy this key now</h2>
      <p>It is shown once. {note}</p>
      <p><code class="secret" data-testid="api-key-secret">{secret}</code></p>
      <button type="button" class="btn" onClick={onClose}>I have copied it</button>
    </section>
  );
}

function UsageTable({ k }: { k: ApiKey }) {
  const [usage, setUsage] = useState<Usage | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => { api.get<Usage>(`/v1/api-keys/${k.id}/usage?days=30`).then(setUsage, setError); }, [k.id]);
  if (error) return <ProblemBox error={error} title="Usage could not be loaded" />;
  if (!usage) return <p class="loading" role="status">Loading usage…</p>;
  if (!usage.days.length) return <p class="hint">No requests in the last 30 days.</p>;
  const max = Math.max(...usage.days.map((d) => d.requests));
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label={`Requests per day with ${k.name}`}>
      <table class="table" data-testid="usage-table">
        <caption class="sr-only">Requests per day with {k.name}, by status class</caption>
        <thead>
          <tr>
            <th scope="col">Day</th>
            <th scope="col">Requests</th>
            {CLASSES.map((c) => <th scope="col" key={c}>{c}</th>)}
            <th scope="col" class="bar-cell"><span class="sr-only">Share of the busiest day</span></th>
          </tr>
        </thead>
        <tbody>
          {usage.days.map((d) => (
            <tr key={d.date}>
              <th scope="row">{d.date}</th>
              <td>{d.requests}</td>
              {CLASSES.map((c) => <td key={c}>{d.by_status[c] ?? 0}</td>)}
              <td class="bar-cell" aria-hidden="true"><span class="bar" style={{ width: `${Math.round((d.requests / max) * 100)}%` }} /></td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function KeyCard({ k, onChanged, onSecret }: { k: ApiKey; onChanged: () => void; onSecret: (name: string, secret: string, note: string) => void }) {
  const [showUsage, setShowUsage] = useState(false);
  const [overlap, setOverlap] = useState('60');
  const [limit, setLimit] = useState(k.rate_limit_per_minute ? String(k.rate_limit_per_minute) : '');
  const { busy, error, run } = useAction();
  const revoked = !!k.revoked_at;

  const rotate = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      const r = await api.post<ApiKey & { key: string }>(`/v1/api-keys/${k.id}/rotate`, { overlap_minutes: Number(overlap) });
      onSecret(k.name, r.key, r.previous_expires_at ? `The old key keeps working until ${when(r.previous_expires_at)}.` : 'The old key has stopped working.');
      onChanged();
    });
  };
  const saveLimit = (e: Event) => {
    e.preventDefault();
    void run(async () => { await api.patch(`/v1/api-keys/${k.id}`, { rate_limit_per_minute: limit.trim() ? Number(limit) : null }); onChanged(); });
  };
  const revoke = () => {
    if (!confirm(`Revoke ${k.name}? Every request with it (old or new secret) is refused from now on.`)) return;
    void run(async () => { await api.del(`/v1/api-keys/${k.id}`); onChanged(); });
  };

  return (
    <li class="card" data-testid="api-key">
      <h2 class="card-title">
        {k.name} <code>hk_{k.prefix}_…</code> {revoked && <span class="chip">Revoked</span>}
      </h2>
      <p class="meta">
        Scopes: {k.scopes.join(', ')} · created {when(k.created_at)}
        {k.expires_at && ` · expires ${when(k.expires_at)}`}
      </p>
      <p class="meta" data-testid="last-used">
        Last used {when(k.last_used_at)}{k.last_used_address && ` from ${k.last_used_address}`}
        {k.previous_expires_at && ` · the previous secret works until ${when(k.previous_expires_at)}`}
      </p>
      <p class="meta">Rate limit: {k.rate_limit_per_minute ? `${k.rate_limit_per_minute} requests a minute` : 'the default'}</p>
      {!revoked && (
        <>
          <form class="row checks-row" onSubmit={saveLimit}>
            <div class="field">
              <label for={`limit-${k.id}`}>Requests per minute (empty: the default)</label>
              <input id={`limit-${k.id}`} type="number" min={1} inputMode="numeric" value={limit} onInput={(e) => setLimit((e.currentTarget as HTMLInputElement).value)} />
            </div>
            <button type="submit" class="btn" disabled={busy}>Save limit</button>
          </form>
          <form class="row checks-row" onSubmit={rotate}>
            <div class="field">
              <label for={`overlap-${k.id}`}>Old key keeps working for (minutes)</label>
              <input id={`overlap-${k.id}`} type="number" min={0} max={43200} inputMode="numeric" required value={overlap} onInput={(e) => setOverlap((e.currentTarget as HTMLInputElement).value)} />
            </div>
            <button type="submit" class="btn" disabled={busy}>Rotate {k.name}</button>
          </form>
        </>
      )}
      <div class="actions">
        <button type="button" class="btn" aria-expanded={showUsage} onClick={() => setShowUsage(!showUsage)}>
          {showUsage ? 'Hide usage' : `Usage of ${k.name}`}
        </button>
        {!revoked && <button type="button" class="btn danger" disabled={busy} onClick={revoke}>Revoke {k.name}</button>}
      </div>
      {showUsage && <UsageTable k={k} />}
      <ProblemBox error={error} title="The key could not be changed" />
    </li>
  );
}

export default function ApiKeysPage() {
  useTitle('API keys');
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Permission[]>(['events:write']);
  const [limit, setLimit] = useState('');
  const [secret, setSecret] = useState<{ name: string; secret: string; note: string } | null>(null);
  const { busy, error, run } = useAction();
  const load = () => api.get<{ items: ApiKey[] }>('/v1/api-keys').then((r) => setKeys(r.items), setLoadError);
  useEffect(() => { void load(); }, []);

  const create = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      const r = await api.post<ApiKey & { key: string }>('/v1/api-keys', { name: name.trim(), scopes, ...(limit.trim() ? { rate_limit_per_minute: Number(limit) } : {}) });
      setSecret({ name: r.name, secret: r.key, note: 'Send it as "Authorization: Bearer <key>".' });
      setName('');
      setLimit('');
      await load();
    });
  };

  return (
    <section class="page" aria-labelledby="api-keys-title">
      <h1 id="api-keys-title">API keys</h1>
      {secret && <SecretPanel {...secret} onClose={() => setSecret(null)} />}
      <section class="panel" aria-labelledby="new-key-title">
        <h2 id="new-key-title">New key</h2>
        <form class="form" onSubmit={create}>
          <div class="field">
            <label for="key-name">Name</label>
            <input id="key-name" required maxLength={200} value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
          </div>
          <fieldset class="checks">
            <legend>Scopes</legend>
            {PERMISSIONS.map((p) => (
              <label key={p} class="check" for={`scope-${p}`}>
                <input id={`scope-${p}`} type="checkbox" checked={scopes.includes(p)}
                  onChange={(e) => setScopes((e.currentTarget as HTMLInputElement).checked ? [...scopes, p] : scopes.filter((x) => x !== p))} />
                {PERMISSION_LABELS[p]}
              </label>
            ))}
          </fieldset>
          <div class="field">
            <label for="key-limit">Requests per minute (empty: the default)</label>
            <input id="key-limit" type="number" min={1} inputMode="numeric" value={limit} onInput={(e) => setLimit((e.currentTarget as HTMLInputElement).value)} />
          </div>
          <button type="submit" class="btn primary" disabled={busy || !scopes.length}>Create key</button>
          <ProblemBox error={error} title="The key could not be created" />
        </form>
      </section>
      <ProblemBox error={loadError} title="Keys could not be loaded" />
      {!keys && !loadError && <p class="loading" role="status">Loading…</p>}
      {keys && (
        <ul class="cards" aria-label="API keys">
          {keys.map((k) => <KeyCard key={k.id} k={k} onChanged={() => void load()} onSecret={(n, s, note) => setSecret({ name: n, secret: s, note })} />)}
        </ul>
      )}
    </section>
  );
}
