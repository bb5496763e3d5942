// /system — Herald's own health: uptime from the kept readiness checks, the processes and whether each is
// alive, Herald's own incidents (herald/* alerts), the job queue, the last checks and the last failures.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../../api';
import { ProblemBox } from '../../components/Problem';
import { useTitle } from '../../hooks';
import { ago } from '../../time';

interface Check { id: number; process_id: string; at: string; ready: boolean; checks: Record<string, { status?: string; detail?: string } | Record<string, { status: string }>> }
interface Proc { id: string; roles: string[]; host: string; pid: number; started_at: string; seen_at: string; stopped_at: string | null; state: 'alive' | 'silent' | 'stopped'; uptime_s: number }
interface Uptime { checks: number; ready: number; share: number | null }
interface Incident { key: string; open: boolean; seq: number; changed_at: string }
interface SystemStatus {
  processes: Proc[]; uptime: { last_24h: Uptime; last_7d: Uptime }; hourly: Array<{ hour: string; checks: number; ready: number }>;
  checks: Check[]; failures: Check[]; incidents: Incident[]; queue: { depth: number; oldest_s: number };
  retention: Record<string, number>;
}

const pct = (u: Uptime) => (u.share === null ? 'no checks yet' : `${(Math.floor(u.share * 10000) / 100).toFixed(2)} %`);
const dur = (s: number) => (s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : s < 172800 ? `${Math.round(s / 3600)} h` : `${Math.round(s / 86400)} d`);

/** What failed in one check, in words. */
function failed(c: Check): string {
  const out: string[] = [];
  for (const [k, v] of Object.entries(c.checks)) {
    if (k === 'channels') {
      for (const [ch, h] of Object.entries(v as Record<string, { status: string }>)) if (h.status === 'error') out.push(`channel ${ch}`);
    } else if ((v as { status?: string }).status === 'error') out.push(k);
  }
  return out.join(', ') || 'not ready';
}

export default function SystemPage() {
  useTitle('System');
  const [s, setS] = useState<SystemStatus | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let live = true;
    const load = () => api.get<SystemStatus>('/v1/system').then((r) => { if (live) { setS(r); setError(null); } }, (e) => live && setError(e));
    void load();
    const t = setInterval(load, 15_000);
    return () => { live = false; clearInterval(t); };
  }, []);
  if (error && !s) return <ProblemBox error={error} title="The system status could not be loaded" />;
  if (!s) return <p class="loading" role="status">Loading…</p>;
  const open = s.incidents.filter((i) => i.open);
  return (
    <section aria-labelledby="system-title">
      <h1 id="system-title">System</h1>
      <div class="panel" data-testid="uptime">
        <h2>Uptime</h2>
        <p>Last 24 hours: <strong>{pct(s.uptime.last_24h)}</strong> of {s.uptime.last_24h.checks} checks ready · last 7 days: <strong>{pct(s.uptime.last_7d)}</strong></p>
        <p>Job queue: {s.queue.depth} waiting{s.queue.depth ? `, the oldest for ${dur(Math.round(s.queue.oldest_s))}` : ''}</p>
        <p class="hint">{open.length ? `${open.length} open incident${open.length > 1 ? 's' : ''} of Herald itself: ${open.map((i) => i.key).join(', ')} (see Alerts, category herald)` : 'No open incident of Herald itself.'}</p>
      </div>
      <h2>Processes</h2>
      <div class="table-wrap">
        <table class="table" aria-label="Processes">
          <thead><tr><th scope="col">Process</th><th scope="col">Roles</th><th scope="col">State</th><th scope="col">Up for</th><th scope="col">Last seen</th></tr></thead>
          <tbody>
            {s.processes.map((p) => (
              <tr key={p.id}>
                <td>{p.host} pid {p.pid}</td>
                <td>{p.roles.join(' + ')}</td>
                <td>{p.state}</td>
                <td>{dur(p.uptime_s)}</td>
                <td>{ago(p.seen_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Recent checks</h2>
      <div class="table-wrap">
        <table class="table" aria-label="Recent readiness checks" data-testid="checks">
          <thead><tr><th scope="col">When</th><th scope="col">Process</th><th scope="col">Result</th></tr></thead>
          <tbody>
            {s.checks.map((c) => (
              <tr key={c.id}>
                <td>{ago(c.at)}</td>
                <td>{c.process_id.split(':').slice(0, 2).join(' pid ')}</td>
                <td>{c.ready ? 'ready' : `not ready: ${failed(c)}`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Last failed checks</h2>
      {s.failures.length ? (
        <ul>{s.failures.map((c) => <li key={c.id}>{new Date(c.at).toLocaleString()}: {failed(c)}</li>)}</ul>
      ) : <p class="hint">None kept (checks are kept {s.retention.readiness_days} days).</p>}
    </section>
  );
}
