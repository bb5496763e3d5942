import { describe, expect, it } from 'vitest';
import { acknowledged, hugeAlert, makeAlert, minutesAgo, minutesAhead, NOW, resolved } from '../../test/fakes/slack-fixtures';
import { slackBlockErrors } from '../../test/fakes/slack';
import { alertBlocks, alertListBlocks, escapeMrkdwn, helpText, LIST_MAX_ALERTS, noteText, truncateMrkdwn, type KnownBlock } from './blocks';

const now = NOW;
const byType = (blocks: KnownBlock[], type: string) => blocks.filter((b) => b.type === type) as any[];
const actions = (blocks: KnownBlock[]) => byType(blocks, 'actions').flatMap((b) => b.elements) as any[];
const actionIds = (blocks: KnownBlock[]) => actions(blocks).map((e) => e.action_id);
const contextText = (blocks: KnownBlock[]) => byType(blocks, 'context').flatMap((b) => b.elements.map((e: any) => e.text)).join('\n');
/** Every text a user can see in the message, for "is it there / is it absent" checks. */
const allText = (blocks: KnownBlock[]) => JSON.stringify(blocks);

describe('alertBlocks — a triggered alert', () => {
  const { text, blocks } = alertBlocks(makeAlert(), { now });

  it('opens with the priority and category, then the title and body', () => {
    expect(blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text', text: '🔴 HIGH · Finance' } });
    const body = blocks[1] as any;
    expect(body.type).toBe('section');
    expect(body.text.text).toBe('*Invoice 1042 overdue 30 days*\nACME Corp has not paid invoice 1042 (12,500 EUR).');
  });

  it('shows the entity and metadata as section fields', () => {
    const fields = byType(blocks, 'section').find((b) => b.fields)!.fields.map((f: any) => f.text);
    expect(fields).toEqual(['*Customer*\nACME Corp (c-17)', '*Amount*\n12500', '*Currency*\nEUR', '*Days overdue*\n30']);
  });

  it('shows the SOP with numbered steps and its link', () => {
    const sop = byType(blocks, 'section').find((b) => b.text?.text.includes('Chase the invoice'))!;
    expect(sop.text.text).toBe('*📋 Chase the invoice*\n1. Call the customer\n2. Log the promise date\n<https://wiki.example.com/sop/chase|Open the procedure>');
  });

  it('says how old it is, its state, and when and to whom it escalates', () => {
    const ctx = contextText(blocks);
    expect(ctx).toContain('#42 · finance/invoice_overdue · 12 min ago · via crm');
    expect(ctx).toContain('🔔 Triggered');
    expect(ctx).toContain('Escalates to Admin in 12 min');
  });

  it('offers Acknowledge (primary), Resolve, Snooze 1h and Open, each carrying the alert id', () => {
    const els = actions(blocks);
    expect(els.map((e) => [e.action_id, e.text.text])).toEqual([
      ['herald_ack', 'Acknowledge'],
      ['herald_resolve', 'Resolve'],
      ['herald_snooze', 'Snooze 1h'],
      ['herald_open', 'Open'],
    ]);
    expect(els[0].style).toBe('primary');
    expect(els.slice(1).every((e) => e.style === undefined)).toBe(true);
    expect(els.slice(0, 3).every((e) => e.value === '42')).toBe(true);
    expect(els[3].url).toBe('http://127.0.0.1:8080/alerts/42');
  });

  it('has a notification fallback text', () => {
    expect(text).toBe('🔴 HIGH · Finance: Invoice 1042 overdue 30 days');
  });

  it('is valid for Slack', () => {
    expect(slackBlockErrors(blocks)).toEqual([]);
  });
});

describe('alertBlocks — state changes', () => {
  it('acknowledged: Resolve (primary) and Open; who acknowledged and when; no countdown', () => {
    const { text, blocks } = alertBlocks(acknowledged(), { now });
    expect(actionIds(blocks)).toEqual(['herald_resolve', 'herald_open']);
    expect(actions(blocks)[0].style).toBe('primary');
    expect(contextText(blocks)).toContain('👀 Acknowledged by Ana 3 min ago');
    expect(allText(blocks)).not.toContain('Escalates');
    expect(text).toBe('🔴 HIGH · Finance: Invoice 1042 overdue 30 days — Acknowledged by Ana 3 min ago');
  });

  it('resolved: only Open; who resolved it', () => {
    const { blocks } = alertBlocks(resolved(), { now });
    expect(actionIds(blocks)).toEqual(['herald_open']);
    expect(contextText(blocks)).toContain('✅ Resolved by Bo 1 min ago');
    expect(allText(blocks)).not.toContain('Escalates');
  });

  it('snoozed: says by whom and when it comes back, offers Resolve and Open', () => {
    const { blocks } = alertBlocks(acknowledged({ snoozed_until: minutesAhead(45) }), { now });
    expect(contextText(blocks)).toContain('💤 Snoozed by Ana, back in 45 min');
    expect(actionIds(blocks)).toEqual(['herald_resolve', 'herald_open']);
  });

  it('resolved with an unusable URL has no actions block at all', () => {
    const { blocks } = alertBlocks(resolved({ url: 'javascript:alert(1)' }), { now });
    expect(byType(blocks, 'actions')).toEqual([]);
    expect(slackBlockErrors(blocks)).toEqual([]);
  });
});

describe('alertBlocks — escalation text only while triggered with a due time', () => {
  it('triggered with next_at and next_to', () => {
    expect(contextText(alertBlocks(makeAlert(), { now }).blocks)).toContain('⏫ Escalates to Admin in 12 min');
  });
  it('triggered with next_at but no next_to', () => {
    const a = makeAlert({ escalation: { level: 0, next_at: minutesAhead(90), next_to: null } });
    expect(contextText(alertBlocks(a, { now }).blocks)).toContain('⏫ Escalates in 1 h 30 min');
  });
  it('triggered and already due', () => {
    const a = makeAlert({ escalation: { level: 1, next_at: minutesAgo(1), next_to: 'CEO' } });
    expect(contextText(alertBlocks(a, { now }).blocks)).toContain('Escalates to CEO now');
  });
  it('triggered without a next escalation', () => {
    const a = makeAlert({ escalation: { level: 2, next_at: null, next_to: null } });
    expect(allText(alertBlocks(a, { now }).blocks)).not.toContain('Escalates');
  });
  it('acknowledged or resolved, even if a stale next_at leaked through', () => {
    const stale = { level: 0, next_at: minutesAhead(12), next_to: 'Admin' };
    expect(allText(alertBlocks(acknowledged({ escalation: stale }), { now }).blocks)).not.toContain('Escalates');
    expect(allText(alertBlocks(resolved({ escalation: stale }), { now }).blocks)).not.toContain('Escalates');
  });
});

describe('alertBlocks — outside text is escaped', () => {
  it('cannot ping a channel or forge a link', () => {
    const a = makeAlert({
      title: '<!channel> pay now',
      body: 'Click <https://evil.example|your bank> & <@U123>',
      metadata: { note: '<!here>' },
      acknowledged_by: null,
    });
    const { text, blocks } = alertBlocks(a, { now });
    const all = text + allText(blocks);
    for (const raw of ['<!channel>', '<https://evil', '<@U123>', '<!here>']) expect(all).not.toContain(raw);
    expect(allText(blocks)).toContain('&lt;!channel&gt; pay now');
    expect(allText(blocks)).toContain('Click &lt;https://evil.example|your bank&gt; &amp; &lt;@U123&gt;');
  });

  it('escapes who acted', () => {
    const a = acknowledged({ acknowledged_by: { kind: 'user', name: '<!everyone>' } });
    expect(contextText(alertBlocks(a, { now }).blocks)).toContain('Acknowledged by &lt;!everyone&gt;');
  });

  it('truncation never leaves half an entity or half a link', () => {
    expect(truncateMrkdwn(escapeMrkdwn('a'.repeat(8) + '&'.repeat(10)), 12)).toBe('aaaaaaaa…');
    expect(truncateMrkdwn('abc <https://example.com|x> def', 10)).toBe('abc …');
    const s = alertBlocks(makeAlert({ body: '&'.repeat(5000) }), { now }).blocks[1] as any;
    expect(s.text.text.length).toBeLessThanOrEqual(3000);
    expect(s.text.text).toMatch(/(&amp;)+…$/);
  });

  it('never cuts an emoji in half', () => {
    const s = alertBlocks(makeAlert({ body: '🚨'.repeat(3000) }), { now }).blocks[1] as any;
    expect(s.text.text.length).toBeLessThanOrEqual(3000);
    expect(s.text.text.isWellFormed()).toBe(true);
  });
});

describe('alertBlocks — Slack limits with absurd input', () => {
  const { text, blocks } = alertBlocks(hugeAlert(), { now });

  it('respects every per-block limit', () => {
    expect(blocks.length).toBeLessThanOrEqual(50);
    const header = blocks[0] as any;
    expect(header.text.text.length).toBeLessThanOrEqual(150);
    for (const s of byType(blocks, 'section')) {
      if (s.text) expect(s.text.text.length).toBeLessThanOrEqual(3000);
      if (s.fields) {
        expect(s.fields.length).toBeLessThanOrEqual(6);
        for (const f of s.fields) expect(f.text.length).toBeLessThanOrEqual(2000);
      }
    }
    for (const c of byType(blocks, 'context')) for (const e of c.elements) expect(e.text.length).toBeLessThanOrEqual(3000);
    expect(text.length).toBeLessThanOrEqual(1000);
    expect(slackBlockErrors(blocks)).toEqual([]);
  });

  it('shows 6 of the 61 facts and says how many more there are', () => {
    const fields = byType(blocks, 'section').find((b) => b.fields)!.fields;
    expect(fields).toHaveLength(6);
    expect(contextText(blocks)).toContain('+55 more fields in Herald');
  });

  it('keeps whole SOP steps and counts the ones left out, keeping the link', () => {
    const sop = byType(blocks, 'section').find((b) => b.text?.text.startsWith('*📋'))!.text.text as string;
    expect(sop).toMatch(/\n…and \d+ more steps\n<https:\/\/wiki\.example\.com\/p+\|Open the procedure>$/);
    expect(sop).toContain('\n1. step 0 ');
  });

  it('still shows the state, the countdown and the buttons', () => {
    expect(contextText(blocks)).toContain('🔔 Triggered');
    expect(contextText(blocks)).toMatch(/⏫ Escalates to Admin, CEO, .*… in 12 min/);
    expect(actionIds(blocks)).toEqual(['herald_ack', 'herald_resolve', 'herald_snooze', 'herald_open']);
  });
});

describe('alertListBlocks', () => {
  it('says so when there is nothing open', () => {
    const r = alertListBlocks([], { now });
    expect(r.text).toBe('No open alerts for you 🎉');
    expect(r.blocks).toHaveLength(1);
    expect(allText(r.blocks)).toContain('No open alerts for you 🎉');
  });

  it('lists each alert compactly with the buttons of its state', () => {
    const alerts = [makeAlert({ id: 1 }), acknowledged({ id: 2, title: 'Deal lost' }), makeAlert({ id: 3, priority: 'critical', escalation: { level: 0, next_at: null, next_to: null } })];
    const { text, blocks } = alertListBlocks(alerts, { now });
    expect(text).toBe('You have 3 open alerts');
    expect(blocks).toHaveLength(1 + 3 * 2);
    const rows = byType(blocks, 'actions').map((b) => b.elements.map((e: any) => `${e.action_id}:${e.value}`));
    expect(rows).toEqual([
      ['herald_ack:1', 'herald_resolve:1', 'herald_snooze:1', 'herald_open:1'],
      ['herald_resolve:2', 'herald_open:2'],
      ['herald_ack:3', 'herald_resolve:3', 'herald_snooze:3', 'herald_open:3'],
    ]);
    const lines = byType(blocks, 'section').slice(1).map((b) => b.text.text);
    expect(lines[0]).toContain('🔴 *Invoice 1042 overdue 30 days*');
    expect(lines[0]).toContain('Escalates to Admin in 12 min');
    expect(lines[1]).toContain('Acknowledged by Ana 3 min ago');
    expect(lines[2]).toMatch(/^🚨/);
    expect(slackBlockErrors(blocks)).toEqual([]);
  });

  it('stays within 50 blocks and counts what it left out', () => {
    const alerts = Array.from({ length: 100 }, (_, i) => hugeAlert({ id: i + 1 }));
    const { text, blocks } = alertListBlocks(alerts, { now });
    expect(text).toBe('You have 100 open alerts');
    expect(blocks.length).toBeLessThanOrEqual(50);
    expect(byType(blocks, 'actions')).toHaveLength(LIST_MAX_ALERTS);
    expect(contextText(blocks)).toContain(`+${100 - LIST_MAX_ALERTS} more not shown`);
    expect(slackBlockErrors(blocks)).toEqual([]);
  });
});

describe('helpText', () => {
  it('lists every subcommand', () => {
    const t = helpText();
    for (const c of ['`/herald list`', '`/herald ack|resolve &lt;id&gt;`', '`/herald snooze &lt;id&gt; [minutes]`', '`/herald oncall [role]`', '`/herald link`', '`/herald help`']) {
      expect(t).toContain(c);
    }
    expect(t).not.toMatch(/<id>/);
  });
});

describe('alertBlocks — assignee and notes', () => {
  it('says who the alert is assigned to, escaped, while it is open; not once resolved', () => {
    const { blocks } = alertBlocks(makeAlert({ assigned_to: { id: 7, name: 'Wes <!channel>' } }), { now });
    expect(contextText(blocks)).toContain('👤 Assigned to Wes &lt;!channel&gt;');
    expect(slackBlockErrors(blocks)).toEqual([]);
    expect(contextText(alertBlocks(resolved({ assigned_to: { id: 7, name: 'Wes' } }), { now }).blocks)).not.toContain('Assigned');
    expect(contextText(alertBlocks(makeAlert(), { now }).blocks)).not.toContain('Assigned');
  });

  it('a note reply names the writer and escapes the text so it cannot ping or fake a link', () => {
    expect(noteText('Ana', 'Called <!here> & <https://evil|Pay>')).toBe('📝 *Ana*: Called &lt;!here&gt; &amp; &lt;https://evil|Pay&gt;');
    const long = noteText('Ana', 'x'.repeat(5000));
    expect(long.length).toBeLessThanOrEqual(4100);
    expect(long.endsWith('…')).toBe(true);
  });
});
