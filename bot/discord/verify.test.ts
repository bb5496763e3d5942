import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { discordKeyPair, pingInteraction, signDiscordRequest } from '../../test/fakes/discord-sign';
import { discordTimestampFresh, verifyDiscordSignature } from './verify';

describe('verifyDiscordSignature', () => {
  const keys = discordKeyPair();
  const other = discordKeyPair();
  const body = JSON.stringify(pingInteraction());
  const ts = '1700000000';
  const h = signDiscordRequest(keys.privateKey, body, ts);
  const sig = h['X-Signature-Ed25519'];

  it('accepts a request signed by the application key (hex key as Discord shows it, either case)', () => {
    expect(keys.publicKeyHex).toMatch(/^[0-9a-f]{64}$/);
    expect(h['X-Signature-Timestamp']).toBe(ts);
    expect(verifyDiscordSignature(keys.publicKeyHex, sig, ts, body)).toBe(true);
    expect(verifyDiscordSignature(keys.publicKeyHex.toUpperCase(), sig.toUpperCase(), ts, Buffer.from(body))).toBe(true);
  });

  it('rejects a tampered body or timestamp', () => {
    expect(verifyDiscordSignature(keys.publicKeyHex, sig, ts, body.replace('"type":1', '"type":2'))).toBe(false);
    expect(verifyDiscordSignature(keys.publicKeyHex, sig, ts, body + ' ')).toBe(false);
    expect(verifyDiscordSignature(keys.publicKeyHex, sig, '1700000001', body)).toBe(false);
  });

  it('rejects a signature made with another key', () => {
    expect(verifyDiscordSignature(other.publicKeyHex, sig, ts, body)).toBe(false);
    const forged = signDiscordRequest(other.privateKey, body, ts)['X-Signature-Ed25519'];
    expect(verifyDiscordSignature(keys.publicKeyHex, forged, ts, body)).toBe(false);
  });

  it('answers false, never throws, on garbage', () => {
    const bad: Array<[unknown, unknown, unknown, unknown]> = [
      [keys.publicKeyHex, 'zz', ts, body],
      [keys.publicKeyHex, sig.slice(1), ts, body],
      [keys.publicKeyHex, sig + '00', ts, body],
      [keys.publicKeyHex, '', ts, body],
      [keys.publicKeyHex, 'g'.repeat(128), ts, body],
      [keys.publicKeyHex.slice(2), sig, ts, body],
      ['not hex at all', sig, ts, body],
      ['', sig, ts, body],
      ['00'.repeat(32), sig, ts, body], // 32 zero bytes: a small-order point, must not verify
      [keys.publicKeyHex, sig, '', body],
      [undefined, sig, ts, body],
      [keys.publicKeyHex, undefined, ts, body],
      [keys.publicKeyHex, sig, undefined, body],
      [keys.publicKeyHex, sig, ts, undefined],
      [keys.publicKeyHex, sig, ts, null],
      [{}, [], 5, {}],
    ];
    for (const args of bad) expect(verifyDiscordSignature(...(args as [string, string, string, string]))).toBe(false);
  });

  it('property: arbitrary inputs never throw and never verify', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), fc.string(), (k, s, t, b) => {
        expect(verifyDiscordSignature(k, s, t, b)).toBe(false);
        expect(verifyDiscordSignature(keys.publicKeyHex, s, t, b)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});

describe('discordTimestampFresh', () => {
  const now = 1_800_000_000_000;
  const s = (sec: number) => String(Math.floor(now / 1000) + sec);
  it('accepts X-Signature-Timestamp within 5 minutes of now, either way', () => {
    for (const d of [0, -300, 300, -1, 59]) expect(discordTimestampFresh(s(d), now), String(d)).toBe(true);
  });
  it('refuses older, later (a day ahead) and malformed timestamps', () => {
    for (const d of [-301, 301, 86_400, -86_400]) expect(discordTimestampFresh(s(d), now), String(d)).toBe(false);
    for (const bad of [null, undefined, '', 'abc', '1e9', '-5', '1800000000.5', ' 1800000000', '9'.repeat(40)]) expect(discordTimestampFresh(bad, now), String(bad)).toBe(false);
  });
});
