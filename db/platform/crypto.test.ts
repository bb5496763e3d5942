import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { decrypt, encrypt, signToken, verifyToken } from './crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

describe('signed tokens', () => {
  it('round-trip, and reject another purpose', () => {
    const key = randomBytes(32);
    const t = signToken(key, 'email-action', { a: 1, u: 2 });
    expect(verifyToken(key, 'email-action', t)).toEqual({ a: 1, u: 2 });
    expect(verifyToken(key, 'slack-link', t)).toBeNull();
    expect(verifyToken(randomBytes(32), 'email-action', t)).toBeNull();
  });

  it('reject every other final character (base64url leaves unused bits in the last one)', () => {
    const key = randomBytes(32);
    for (let i = 0; i < 20; i++) {
      const t = signToken(key, 'p', { i });
      for (const ch of ALPHABET) {
        if (ch === t.at(-1)) continue;
        expect(verifyToken(key, 'p', t.slice(0, -1) + ch)).toBeNull();
      }
    }
  });
});

describe('secrets at rest', () => {
  it('encrypt/decrypt round-trips and a tampered ciphertext fails', () => {
    const key = randomBytes(32);
    const sealed = encrypt(key, 'whsec_abc');
    expect(sealed).not.toContain('whsec_abc');
    expect(decrypt(key, sealed)).toBe('whsec_abc');
    const parts = sealed.split('.');
    parts[3] = parts[3].startsWith('A') ? 'B' + parts[3].slice(1) : 'A' + parts[3].slice(1);
    expect(() => decrypt(key, parts.join('.'))).toThrow();
  });
});
