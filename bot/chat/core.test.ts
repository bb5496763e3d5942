import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LINK_PURPOSE, parseAlertId, parseCommandText, parseMinutes, verifyLinkToken } from './core';
import { commandFromOptions } from '../discord/adapter';
import { signToken } from '../../db/platform/crypto';

describe('parseCommandText (the text after /herald in Slack)', () => {
  it.each([
    ['', { cmd: 'list' }],
    ['   ', { cmd: 'list' }],
    ['list', { cmd: 'list' }],
    ['LIST', { cmd: 'list' }],
    ['ack 42', { cmd: 'act', action: 'ack', alertId: 42 }],
    ['acknowledge #42', { cmd: 'act', action: 'ack', alertId: 42 }],
    ['resolve 7', { cmd: 'act', action: 'resolve', alertId: 7 }],
    ['snooze 7', { cmd: 'act', action: 'snooze', alertId: 7, minutes: 60 }],
    ['snooze 7 30', { cmd: 'act', action: 'snooze', alertId: 7, minutes: 30 }],
    ['snooze 7 2h', { cmd: 'act', action: 'snooze', alertId: 7, minutes: 120 }],
    ['oncall', { cmd: 'oncall', role: null }],
    ['oncall shop supervisor', { cmd: 'oncall', role: 'shop supervisor' }],
    ['link', { cmd: 'link' }],
    ['help', { cmd: 'help' }],
  ])('%j → %j', (text, expected) => {
    expect(parseCommandText(text)).toEqual(expected);
  });

  it.each(['ack', 'ack x', 'ack 0', 'ack 42 43', 'snooze 4 never', 'snooze 4 0', 'snooze 4 99999', 'dance', 'ack -1'])('%j → help that quotes the input', (text) => {
    expect(parseCommandText(text)).toEqual({ cmd: 'help', unknown: text });
  });

  it('never throws and always yields a known command (property)', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => {
      const c = parseCommandText(s);
      expect(['list', 'act', 'oncall', 'link', 'help']).toContain(c.cmd);
      if (c.cmd === 'act') {
        expect(Number.isSafeInteger(c.alertId) && c.alertId > 0).toBe(true);
        if (c.action === 'snooze') expect(c.minutes! > 0 && c.minutes! <= 10080).toBe(true);
      }
    }), { numRuns: 2000 });
  });

  it('reads ids and durations strictly', () => {
    expect(parseAlertId('#12')).toBe(12);
    expect(parseAlertId('1e3')).toBeNull();
    expect(parseAlertId('9'.repeat(16))).toBeNull();
    expect(parseMinutes('1d')).toBe(1440);
    expect(parseMinutes('8d')).toBeNull();
    expect(parseMinutes('1.5h')).toBe(90);
  });
});

describe('commandFromOptions (Discord /herald subcommands)', () => {
  const sub = (name: string, options: Array<{ name: string; type: number; value: unknown }> = []) => ({ name, type: 1, options }) as never;
  it('maps each subcommand and its options', () => {
    expect(commandFromOptions(undefined)).toEqual({ cmd: 'list' });
    expect(commandFromOptions(sub('ack', [{ name: 'id', type: 4, value: 5 }]))).toEqual({ cmd: 'act', action: 'ack', alertId: 5 });
    expect(commandFromOptions(sub('snooze', [{ name: 'id', type: 4, value: 5 }]))).toEqual({ cmd: 'act', action: 'snooze', alertId: 5, minutes: 60 });
    expect(commandFromOptions(sub('snooze', [{ name: 'id', type: 4, value: 5 }, { name: 'minutes', type: 4, value: 15 }]))).toEqual({ cmd: 'act', action: 'snooze', alertId: 5, minutes: 15 });
    expect(commandFromOptions(sub('oncall', [{ name: 'role', type: 3, value: ' sales ' }]))).toEqual({ cmd: 'oncall', role: 'sales' });
    expect(commandFromOptions(sub('oncall'))).toEqual({ cmd: 'oncall', role: null });
    expect(commandFromOptions(sub('link'))).toEqual({ cmd: 'link' });
    expect(commandFromOptions(sub('dance'))).toEqual({ cmd: 'help', unknown: 'dance' });
    expect(commandFromOptions(sub('ack', [{ name: 'id', type: 4, value: -3 }])).cmd).toBe('help');
  });
});

describe('link tokens', () => {
  const key = Buffer.alloc(32, 7);
  const claim = { p: 'slack', sub: 'U0ANA', name: 'ana', exp: Math.floor(Date.now() / 1000) + 60 };
  it('verify only for their provider, unexpired, unaltered, under the link purpose', () => {
    const t = signToken(key, LINK_PURPOSE, claim);
    expect(verifyLinkToken(key, 'slack', t)).toMatchObject({ sub: 'U0ANA' });
    expect(verifyLinkToken(key, 'discord', t)).toBeNull();
    expect(verifyLinkToken(Buffer.alloc(32, 8), 'slack', t)).toBeNull();
    expect(verifyLinkToken(key, 'slack', signToken(key, 'email-link', claim))).toBeNull();
    expect(verifyLinkToken(key, 'slack', signToken(key, LINK_PURPOSE, { ...claim, exp: 1 }))).toBeNull();
    expect(verifyLinkToken(key, 'slack', signToken(key, LINK_PURPOSE, { ...claim, sub: 'not-a-slack-id' }))).toBeNull();
    expect(verifyLinkToken(key, 'slack', undefined)).toBeNull();
  });
});
