import { describe, expect, it } from 'vitest';
import { acknowledged, hugeAlert, makeAlert, minutesAhead, NOW, resolved } from '../../test/fakes/slack-fixtures';
import { discordMessageErrors } from '../../test/fakes/discord';
import { alertMessage, customId, heraldCommandDefinition, noteMessage, parseCustomId, RESOLVED_COLOUR, SEVERITY_COLOURS } from './render';

const now = NOW;
const ANA = '300000000000000001';
const BO = '300000000000000002';
const buttons = (msg: ReturnType<typeof alertMessage>) => (msg.components ?? []).flatMap((row: any) => row.components) as any[];
const embedSize = (e: any) =>
  [e.title, e.description, e.footer?.text, e.author?.name].reduce((n, s) => n + (s?.length ?? 0), 0) +
  (e.fields ?? []).reduce((n: number, f: any) => n + f.name.length + f.value.length, 0);

describe('alertMessage — a triggered alert', () => {
  const msg = alertMessage(makeAlert({ severity: 'critical' }), [ANA, BO], { now });
  const embed = msg.embeds![0];

  it('mentions the recipients and allows pinging only them', () => {
    expect(msg.content).toBe(`<@${ANA}> <@${BO}>`);
    expect(msg.allowed_mentions).toEqual({ users: [ANA, BO] });
  });

  it('renders an embed coloured by severity with headline, title, body, facts and SOP', () => {
    expect(embed.color).toBe(SEVERITY_COLOURS.critical);
    expect(embed.author?.name).toBe('🔴 HIGH · Finance');
    expect(embed.title).toBe('Invoice 1042 overdue 30 days');
    expect(embed.url).toBe('http://127.0.0.1:8080/alerts/42');
    expect(embed.description).toBe('ACME Corp has not paid invoice 1042 (12,500 EUR).');
    expect(embed.fields).toEqual([
      { name: 'Customer', value: 'ACME Corp (c-17)', inline: true },
      { name: 'Amount', value: '12500', inline: true },
      { name: 'Currency', value: 'EUR', inline: true },
      { name: 'Days overdue', value: '30', inline: true },
      {
        name: '📋 Chase the invoice',
        value: '1. Call the customer\n2. Log the promise date\n[Open the procedure](https://wiki.example.com/sop/chase)',
        inline: false,
      },
    ]);
    expect(embed.timestamp).toBe(new Date(makeAlert().created_at).toISOString());
  });

  it('says in the footer: id, age, state, and when and to whom it escalates', () => {
    expect(embed.footer?.text).toBe('#42 · finance/invoice_overdue · 12 min ago · via crm · 🔔 Triggered · ⏫ Escalates to Admin in 12 min');
  });

  it('has Acknowledge, Resolve, Snooze 1h buttons with herald custom ids, and a link button', () => {
    expect(msg.components).toHaveLength(1);
    expect(buttons(msg).map((b) => b.custom_id ?? b.url)).toEqual([
      'herald:ack:42',
      'herald:resolve:42',
      'herald:snooze:42',
      'http://127.0.0.1:8080/alerts/42',
    ]);
    expect(buttons(msg).map((b) => [b.label, b.style])).toEqual([
      ['Acknowledge', 1],
      ['Resolve', 3],
      ['Snooze 1h', 2],
      ['Open', 5],
    ]);
  });

  it('is valid for Discord', () => {
    expect(discordMessageErrors(msg)).toEqual([]);
  });
});

describe('alertMessage — state changes', () => {
  it('acknowledged: Resolve and Open, who acknowledged, no countdown', () => {
    const msg = alertMessage(acknowledged(), [ANA], { now });
    expect(buttons(msg).map((b) => b.custom_id ?? 'link')).toEqual(['herald:resolve:42', 'link']);
    expect(msg.embeds![0].footer?.text).toContain('👀 Acknowledged by Ana 3 min ago');
    expect(JSON.stringify(msg)).not.toContain('Escalates');
    expect(msg.embeds![0].color).toBe(SEVERITY_COLOURS.error);
  });

  it('resolved: only the link button, who resolved it, green', () => {
    const msg = alertMessage(resolved(), [], { now });
    expect(buttons(msg).map((b) => b.style)).toEqual([5]);
    expect(msg.embeds![0].footer?.text).toContain('✅ Resolved by Bo 1 min ago');
    expect(msg.embeds![0].color).toBe(RESOLVED_COLOUR);
    expect(msg.content).toBeUndefined();
    expect(msg.allowed_mentions).toEqual({ users: [] });
  });

  it('resolved with an unusable URL: components is an empty array, so an edit removes old buttons', () => {
    const msg = alertMessage(resolved({ url: 'ftp://nope' }), [], { now });
    expect(msg.components).toEqual([]);
    expect(msg.embeds![0].url).toBeUndefined();
  });

  it('escalation text only while triggered with a due time', () => {
    const stale = { level: 0, next_at: minutesAhead(12), next_to: 'Admin' };
    expect(alertMessage(acknowledged({ escalation: stale }), [], { now }).embeds![0].footer?.text).not.toContain('Escalates');
    expect(alertMessage(resolved({ escalation: stale }), [], { now }).embeds![0].footer?.text).not.toContain('Escalates');
    const none = makeAlert({ escalation: { level: 2, next_at: null, next_to: null } });
    expect(alertMessage(none, [], { now }).embeds![0].footer?.text).not.toContain('Escalates');
  });
});

describe('alertMessage — Discord limits with absurd input', () => {
  const mentions = [...Array.from({ length: 150 }, (_, i) => String(400000000000000000n + BigInt(i))), '@everyone', '123abc', ''];
  const msg = alertMessage(hugeAlert(), mentions, { now });
  const e = msg.embeds![0];

  it('keeps every embed within its limits and the embed within 6000 characters', () => {
    expect(e.title!.length).toBeLessThanOrEqual(256);
    expect(e.author!.name.length).toBeLessThanOrEqual(256);
    expect(e.description!.length).toBeLessThanOrEqual(4096);
    expect(e.footer!.text.length).toBeLessThanOrEqual(2048);
    expect(e.fields!.length).toBe(7); // 6 facts + the SOP
    for (const f of e.fields!) {
      expect(f.name.length).toBeLessThanOrEqual(256);
      expect(f.value.length).toBeLessThanOrEqual(1024);
    }
    expect(embedSize(e)).toBeLessThanOrEqual(6000);
    expect(e.description!.length).toBeGreaterThan(1000); // the body gets what is left, and something is left
    expect(discordMessageErrors(msg)).toEqual([]);
  });

  it('says how many facts were left out and still shows state and countdown', () => {
    expect(e.footer!.text).toContain('+55 more fields in Herald');
    expect(e.footer!.text).toContain('🔔 Triggered');
    expect(e.footer!.text).toMatch(/⏫ Escalates to Admin, CEO, .*… in 12 min/);
  });

  it('mentions only valid ids, only as many as fit in 2000 characters, and pings exactly those', () => {
    expect(msg.content!.length).toBeLessThanOrEqual(2000);
    const mentioned = [...msg.content!.matchAll(/<@(\d+)>/g)].map((m) => m[1]);
    expect(msg.allowed_mentions!.users).toEqual(mentioned);
    expect(mentioned.length).toBeGreaterThan(50);
    expect(mentioned.length).toBeLessThanOrEqual(100);
    expect(msg.content).not.toContain('everyone');
  });
});

describe('parseCustomId', () => {
  it('reads what our buttons carry', () => {
    expect(parseCustomId('herald:ack:42')).toEqual({ action: 'ack', alertId: 42 });
    expect(parseCustomId('herald:resolve:7')).toEqual({ action: 'resolve', alertId: 7 });
    expect(parseCustomId('herald:snooze:9007199254740991')).toEqual({ action: 'snooze', alertId: 9007199254740991 });
    for (const b of buttons(alertMessage(makeAlert({ id: 1234 }), [], { now }))) {
      if (b.custom_id) expect(parseCustomId(b.custom_id)?.alertId).toBe(1234);
    }
    expect(customId('ack', 5)).toBe('herald:ack:5');
  });

  it('rejects everything else', () => {
    for (const s of [
      '',
      'herald:ack:',
      'herald:ack:0',
      'herald:ack:-1',
      'herald:ack:01',
      'herald:ack:1.5',
      'herald:ack:1:2',
      'herald:escalate:1',
      'HERALD:ACK:1',
      ' herald:ack:1',
      'herald:ack:1\n',
      'herald:ack:9007199254740993',
      'herald:ack:99999999999999999',
      'other:ack:1',
      'x'.repeat(500),
    ]) {
      expect(parseCustomId(s), s).toBeNull();
    }
    expect(parseCustomId(undefined)).toBeNull();
    expect(parseCustomId(42)).toBeNull();
  });
});

describe('heraldCommandDefinition', () => {
  const def = heraldCommandDefinition();
  const sub = (name: string) => (def.options as any[]).find((o) => o.name === name);

  it('is /herald with the seven subcommands', () => {
    expect(def.name).toBe('herald');
    expect((def.options as any[]).map((o) => [o.name, o.type])).toEqual([
      ['list', 1],
      ['ack', 1],
      ['resolve', 1],
      ['snooze', 1],
      ['oncall', 1],
      ['link', 1],
      ['help', 1],
    ]);
  });

  it('takes a required integer id for ack, resolve and snooze; optional minutes and role', () => {
    for (const n of ['ack', 'resolve', 'snooze']) expect(sub(n).options[0]).toMatchObject({ name: 'id', type: 4, required: true, min_value: 1 });
    expect(sub('snooze').options[1]).toMatchObject({ name: 'minutes', type: 4, required: false });
    expect(sub('oncall').options).toEqual([expect.objectContaining({ name: 'role', type: 3, required: false })]);
    expect(sub('list').options ?? []).toEqual([]);
  });
});

describe('assignee and note replies', () => {
  it('the footer says who the alert is assigned to while it is open', () => {
    const body = alertMessage(makeAlert({ assigned_to: { id: 7, name: 'Wes' } }), [], { now: NOW });
    expect(body.embeds![0].footer!.text).toContain('👤 Assigned to Wes');
    expect(discordMessageErrors(body)).toEqual([]);
    expect(alertMessage(resolved({ assigned_to: { id: 7, name: 'Wes' } }), [], { now: NOW }).embeds![0].footer!.text).not.toContain('Assigned');
  });

  it('a note is a reply to the posted message, within 2,000 characters, pinging nobody', () => {
    const body = noteMessage('Ana *bold*', '@everyone paid ' + 'y'.repeat(5000), '1300000000000000003', '1300000000000000009');
    expect(body.content!.length).toBeLessThanOrEqual(2000);
    expect(body.content).toMatch(/^📝 \*\*Ana \\\*bold\\\*\*\*: @everyone paid y+…$/);
    expect(body.allowed_mentions).toEqual({ parse: [] });
    expect(body.message_reference).toEqual({ message_id: '1300000000000000009', channel_id: '1300000000000000003', fail_if_not_exists: false });
    expect(discordMessageErrors(body)).toEqual([]);
  });
});
