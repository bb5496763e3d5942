// VAPID keys for web push. From VAPID_PUBLIC_KEY / VAPID_PRIVATE_KEY when set; otherwise generated once
// and kept in the `settings` table. docs/design.md says "kept in the data dir": the database *is* the
// installation's shared store (the data dir holds it for embedded PostgreSQL; an external DATABASE_URL
// has no data dir at all), and every API and worker process must sign with the same key the browsers
// subscribed with — so the keys live where the instance key lives.
import webpush from 'web-push';
import type { Config } from '../platform/config';
import type { Pool } from '../platform/sql';

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
  subject: string;
  source: 'environment' | 'generated';
}

const B64URL = /^[A-Za-z0-9_-]+$/;
const bytes = (s: string) => Buffer.from(s, 'base64url').length;

function check(publicKey: string, privateKey: string, where: string): void {
  if (!B64URL.test(publicKey) || bytes(publicKey) !== 65 || Buffer.from(publicKey, 'base64url')[0] !== 4)
    throw new Error(`${where}: the VAPID public key must be an uncompressed P-256 point, 65 bytes in URL-safe base64 (web-push generate-vapid-keys)`);
  if (!B64URL.test(privateKey) || bytes(privateKey) !== 32)
    throw new Error(`${where}: the VAPID private key must be 32 bytes in URL-safe base64`);
}

/** VAPID_SUBJECT, else the public URL when it is https (push services want a way to reach the sender), else the admin's address. */
export function vapidSubject(config: Config): string {
  if (config.VAPID_SUBJECT) return config.VAPID_SUBJECT;
  if (config.publicUrl.startsWith('https://') && !/^https:\/\/localhost[:/]/.test(config.publicUrl + '/')) return config.publicUrl;
  return `mailto:${config.HERALD_ADMIN_EMAIL ?? 'admin@herald.local'}`;
}

async function load(sql: Pool, config: Config): Promise<VapidKeys> {
  const subject = vapidSubject(config);
  const { VAPID_PUBLIC_KEY: pub, VAPID_PRIVATE_KEY: priv } = config;
  if (pub || priv) {
    if (!pub || !priv) throw new Error('Set both VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY, or neither (then Herald generates and keeps a pair)');
    check(pub, priv, 'VAPID_PUBLIC_KEY/VAPID_PRIVATE_KEY');
    return { publicKey: pub, privateKey: priv, subject, source: 'environment' };
  }
  // Concurrent first starts: the first insert wins, everyone reads the winner.
  const candidate = webpush.generateVAPIDKeys();
  await sql`insert into settings (name, value) values ('vapid_keys', ${JSON.stringify(candidate)}) on conflict (name) do nothing`;
  const [row] = await sql<{ value: string }[]>`select value from settings where name = 'vapid_keys'`;
  const kept = JSON.parse(row.value) as { publicKey: string; privateKey: string };
  check(kept.publicKey, kept.privateKey, 'settings.vapid_keys');
  return { publicKey: kept.publicKey, privateKey: kept.privateKey, subject, source: 'generated' };
}

const cache = new WeakMap<Pool, Promise<VapidKeys>>();

/** The installation's VAPID keys (read once per process and database). */
export function vapidKeys(sql: Pool, config: Config): Promise<VapidKeys> {
  let p = cache.get(sql);
  if (!p) {
    p = load(sql, config);
    cache.set(sql, p);
    p.catch(() => cache.delete(sql));
  }
  return p;
}
