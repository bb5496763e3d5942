// Builds the PWA for tests when pwa/dist is missing or older than its sources. Several test processes (or
// people running the suite in one checkout) may get here at once: a lock directory lets one build, the
// build goes to a scratch directory and is swapped in with renames, so a server already serving
// pwa/dist never sees a half-written build.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const PWA = path.join(ROOT, 'pwa');
export const PWA_DIST = path.join(PWA, 'dist');
const LOCK = path.join(PWA, '.dist-lock');

function newest(p: string): number {
  if (!existsSync(p)) return 0;
  const s = statSync(p);
  if (!s.isDirectory()) return s.mtimeMs;
  let m = 0;
  for (const e of readdirSync(p)) m = Math.max(m, newest(path.join(p, e)));
  return m;
}

function builtAt(): number {
  const files = ['index.html', 'sw.js', 'manifest.webmanifest'].map((f) => path.join(PWA_DIST, f));
  if (!files.every(existsSync)) return 0;
  return Math.min(...files.map((f) => statSync(f).mtimeMs));
}

export function pwaIsFresh(): boolean {
  const sources = Math.max(newest(path.join(PWA, 'src')), newest(path.join(PWA, 'public')), newest(path.join(PWA, 'index.html')), newest(path.join(PWA, 'vite.config.ts')));
  const built = builtAt();
  return built > 0 && built >= sources;
}

/** Returns the build's log (it prints the first-screen JavaScript size), or null when nothing was built. */
export async function ensurePwaBuilt(): Promise<string | null> {
  if (pwaIsFresh()) return null;
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // Someone else is building; a lock older than 3 minutes is left over from a killed run.
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > 180_000) rmSync(LOCK, { recursive: true, force: true });
      } catch { /* gone meanwhile */ }
      if (Date.now() > deadline) throw new Error('timed out waiting for another PWA build');
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    if (pwaIsFresh()) return null;
    const scratch = `.dist-build-${process.pid}`;
    const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'pwa/vite.config.ts', '--outDir', scratch, '--emptyOutDir'], {
      // vitest sets NODE_ENV=test, which would make Vite build in development mode (no service worker).
      cwd: ROOT, encoding: 'utf8', timeout: 170_000, env: { ...process.env, NODE_ENV: 'production', NO_COLOR: '1' },
    });
    const log = `${r.stdout ?? ''}${r.stderr ?? ''}`;
    if (r.status !== 0) {
      rmSync(path.join(PWA, scratch), { recursive: true, force: true });
      throw new Error(`PWA build failed (exit ${r.status}):\n${log.slice(-4000)}`);
    }
    const old = path.join(PWA, `.dist-old-${process.pid}`);
    if (existsSync(PWA_DIST)) renameSync(PWA_DIST, old);
    renameSync(path.join(PWA, scratch), PWA_DIST);
    rmSync(old, { recursive: true, force: true });
    return log;
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}
