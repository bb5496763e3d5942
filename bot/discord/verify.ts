// Discord signs every interaction request with Ed25519 over `timestamp + raw body`
// (https://discord.com/developers/docs/interactions/overview#setting-up-an-endpoint-validating-security-request-headers).
// Discord also probes endpoints with bad signatures and expects a 401: so this must answer false — never
// throw — on anything malformed (odd-length hex, wrong sizes, non-hex characters, empty values).
import { createPublicKey, verify, type KeyObject } from 'node:crypto';

/** DER SubjectPublicKeyInfo header for an Ed25519 key (RFC 8410); the raw 32-byte key follows it. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

const HEX_KEY = /^[0-9a-fA-F]{64}$/;
const HEX_SIG = /^[0-9a-fA-F]{128}$/;

// Public keys are configuration (one per application): parse each once.
const keyCache = new Map<string, KeyObject | null>();

function publicKeyFromHex(hex: string): KeyObject | null {
  const k = hex.toLowerCase();
  if (keyCache.has(k)) return keyCache.get(k)!;
  let key: KeyObject | null = null;
  if (HEX_KEY.test(k)) {
    try {
      key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(k, 'hex')]), format: 'der', type: 'spki' });
    } catch {
      key = null;
    }
  }
  if (keyCache.size > 16) keyCache.clear();
  keyCache.set(k, key);
  return key;
}

/**
 * True when `signatureHex` (X-Signature-Ed25519) is a valid Ed25519 signature by `publicKeyHex` (the
 * application's public key as the Developer Portal shows it) over `timestamp` (X-Signature-Timestamp)
 * followed by the exact raw body bytes. False for any malformed or missing input.
 */
export function verifyDiscordSignature(
  publicKeyHex: string | null | undefined,
  signatureHex: string | null | undefined,
  timestamp: string | null | undefined,
  rawBody: string | Buffer | Uint8Array | null | undefined,
): boolean {
  try {
    if (typeof publicKeyHex !== 'string' || typeof signatureHex !== 'string' || typeof timestamp !== 'string') return false;
    if (!timestamp || rawBody === null || rawBody === undefined) return false;
    if (!HEX_SIG.test(signatureHex)) return false;
    const key = publicKeyFromHex(publicKeyHex.trim());
    if (!key) return false;
    const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : Buffer.from(rawBody);
    return verify(null, Buffer.concat([Buffer.from(timestamp, 'utf8'), body]), key, Buffer.from(signatureHex, 'hex'));
  } catch {
    return false;
  }
}

/** How far X-Signature-Timestamp may be from now, either way: a captured interaction cannot be replayed later. */
export const DISCORD_MAX_SKEW_SECONDS = 300;

/** True when `timestamp` (X-Signature-Timestamp, Unix seconds) is within 5 minutes of `nowMs`, either way. */
export function discordTimestampFresh(timestamp: string | null | undefined, nowMs = Date.now()): boolean {
  if (typeof timestamp !== 'string' || !/^\d{1,12}$/.test(timestamp)) return false;
  return Math.abs(nowMs / 1000 - Number(timestamp)) <= DISCORD_MAX_SKEW_SECONDS;
}
