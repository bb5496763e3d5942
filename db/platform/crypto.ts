// Secrets at rest: API keys and passwords are hashed; webhook signing secrets (which Herald must read back
// to sign) are encrypted with AES-256-GCM under the instance key. Short signed tokens (email links,
// sessions) use HMAC-SHA256 under a key derived from the same instance key.
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { Pool } from './sql';

const scryptAsync = promisify(scrypt) as (p: string, s: Buffer, len: number) => Promise<Buffer>;

/**
 * The instance key: HERALD_SECRET_KEY when set (required when several processes share one database
 * and must agree); otherwise generated once and kept in the `settings` table so every process of the
 * installation reads the same key.
 */
export async function loadInstanceKey(sql: Pool, fromEnv?: string): Promise<Buffer> {
  if (fromEnv) return createHash('sha256').update(fromEnv).digest();
  const candidate = randomBytes(32).toString('base64');
  await sql`insert into settings (name, value) values ('instance_key', ${candidate}) on conflict (name) do nothing`;
  const [row] = await sql<{ value: string }[]>`select value from settings where name = 'instance_key'`;
  return Buffer.from(row.value, 'base64');
}

export function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

export function randomToken(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

export function encrypt(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return ['v1', iv.toString('base64url'), c.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
}

export function decrypt(key: Buffer, sealed: string): string {
  const [v, iv, tag, body] = sealed.split('.');
  if (v !== 'v1') throw new Error('unknown ciphertext version');
  const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  d.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([d.update(Buffer.from(body, 'base64url')), d.final()]).toString('utf8');
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, 32);
  return `scrypt$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  if (!stored) return false;
  const [scheme, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64url'), expected.length);
  return timingSafeEqual(expected, actual);
}

/** `<payload b64url>.<hmac b64url>`; purpose is mixed into the MAC so tokens cannot cross uses. */
export function signToken(key: Buffer, purpose: string, payload: object): string {
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  const mac = createHmac('sha256', key).update(`${purpose}.${body}`).digest('base64url');
  return `${body}.${mac}`;
}

export function verifyToken<T>(key: Buffer, purpose: string, token: string): T | null {
  const [body, mac] = token.split('.');
  if (!body || !mac) return null;
  const expected = createHmac('sha256', key).update(`${purpose}.${body}`).digest();
  const given = Buffer.from(mac, 'base64url');
  // Only the canonical encoding is accepted: base64url's last character carries unused bits, so a
  // different final character can decode to the same bytes.
  if (given.length !== expected.length || given.toString('base64url') !== mac || !timingSafeEqual(given, expected)) return null;
  try {
    return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as T;
  } catch {
    return null;
  }
}
