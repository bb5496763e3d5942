import { describe, expect, it } from 'vitest';
import { joinAnd, rulePreview } from './preview';
import { RuleInputSchema } from './schema';

// The rule exactly as docs/design.md "A rule" shows it.
const designRule = {
  name: 'Overdue invoices', enabled: true, position: 10, continue: false,
  match: { category: 'finance', type: 'invoice_overdue', min_severity: 'warning',
    conditions: [{ field: 'metadata.amount', op: 'gte', value: 10000 }] },
  targets: { roles: ['accounting'], users: [] },
  channels: ['in_app', 'email', 'slack'], priority: 'high',
  escalation: { steps: [{ after_minutes: 60, roles: ['admin'] }, { after_minutes: 120, roles: ['ceo'] }], repeat: 0 },
  slack_channel: null, discord_channel: null,
  sop: { title: 'Chase the invoice', steps: ['Call the customer', 'Log the promise date'], url: null },
};

const rule = (over: Record<string, unknown> = {}) => RuleInputSchema.parse({ ...designRule, ...over });
const match = (over: Record<string, unknown>) => ({ ...designRule.match, ...over });

describe('rulePreview', () => {
  it('says the docs/design.md sentence for its example rule', () => {
    expect(rulePreview(rule())).toBe(
      'Finance/invoice_overdue alerts (severity ≥ warning, amount ≥ 10000) go to Accounting via In-app, Email and ' +
        'Slack, escalating to Admin after 60 min and to CEO after 120 min.',
    );
  });

  it('says "All <Category> alerts" when the rule takes every type, and drops an info floor', () => {
    const r = rule({ match: { category: 'production', type: null }, escalation: { steps: [] }, channels: ['sms'] });
    expect(rulePreview(r)).toBe('All Production alerts go to Accounting via SMS.');
    const withCond = rule({ match: match({ type: null, min_severity: 'info' }) });
    expect(rulePreview(withCond)).toMatch(/^All Finance alerts \(amount ≥ 10000\) go to Accounting/);
  });

  it('marks a disabled rule', () => {
    const s = rulePreview(rule({ enabled: false }));
    expect(s.startsWith('(disabled) Finance/invoice_overdue alerts (severity ≥ warning')).toBe(true);
    expect(s).toBe(`(disabled) ${rulePreview(rule())}`);
  });

  it('says how often the escalation repeats', () => {
    const once = rulePreview(rule({ escalation: { ...designRule.escalation, repeat: 1 } }));
    expect(once).toMatch(/and to CEO after 120 min, repeating once\.$/);
    const thrice = rulePreview(rule({ escalation: { ...designRule.escalation, repeat: 3 } }));
    expect(thrice).toMatch(/and to CEO after 120 min, repeating 3 times\.$/);
    // Without steps there is nothing to repeat, and no escalation clause at all.
    const none = rulePreview(rule({ escalation: { steps: [], repeat: 2 } }));
    expect(none).toBe('Finance/invoice_overdue alerts (severity ≥ warning, amount ≥ 10000) go to Accounting via In-app, Email and Slack.');
  });

  it('names users from the map, else by id, after the roles', () => {
    const r = rule({
      targets: { roles: ['accounting', 'shop_floor'], users: [7, 12] },
      escalation: { steps: [{ after_minutes: 0.5, users: [12] }, { after_minutes: 90, roles: ['ceo'], users: [3] }] },
    });
    const names = new Map([[12, 'Dana Fox']]);
    expect(rulePreview(r, names)).toBe(
      'Finance/invoice_overdue alerts (severity ≥ warning, amount ≥ 10000) go to Accounting, Shop floor, user #7 and ' +
        'Dana Fox via In-app, Email and Slack, escalating to Dana Fox after 0.5 min and to CEO and user #3 after 90 min.',
    );
    expect(rulePreview(r)).toContain('go to Accounting, Shop floor, user #7 and user #12 via');
  });

  it('says "nobody" when the rule targets no one', () => {
    expect(rulePreview(rule({ targets: { roles: [], users: [] } }))).toContain(') go to nobody via In-app');
  });

  it('phrases every condition op by the last path segment', () => {
    const conditions = [
      { field: 'metadata.customer.region', op: 'eq', value: 'EU' },
      { field: 'metadata.status', op: 'neq', value: 'paid' },
      { field: 'metadata.days', op: 'gt', value: 30 },
      { field: 'metadata.score', op: 'lt', value: 0.5 },
      { field: 'metadata.score', op: 'lte', value: 1 },
      { field: 'entity.kind', op: 'in', value: ['invoice', 'credit_note'] },
      { field: 'metadata.tags', op: 'contains', value: 'vip' },
      { field: 'metadata.po_number', op: 'exists' },
      { field: 'entity.name', op: 'matches', value: '^INV-\\d+$' },
      { field: 'metadata.flagged', op: 'eq', value: true },
    ];
    const s = rulePreview(rule({ match: match({ min_severity: 'info', conditions }) }));
    expect(s).toContain(
      '(region = EU, status ≠ paid, days > 30, score < 0.5, score ≤ 1, kind in [invoice, credit_note], ' +
        'tags contains vip, po_number exists, name matches /^INV-\\d+$/, flagged = true)',
    );
  });

  it('names the Slack and Discord rooms with their channels', () => {
    const r = rule({ channels: ['slack', 'discord', 'email'], slack_channel: 'ops', discord_channel: '#alerts' });
    expect(rulePreview(r)).toContain('via Slack #ops, Discord #alerts and Email,');
    // A room on a channel the rule does not use is not mentioned.
    expect(rulePreview(rule({ slack_channel: 'ops', channels: ['email'] }))).toContain('via Email,');
  });

  it('lists three or more escalation steps as a series', () => {
    const r = rule({ escalation: { steps: [
      { after_minutes: 15, roles: ['workshop'] }, { after_minutes: 30, roles: ['admin'] }, { after_minutes: 45, roles: ['ceo'] },
    ] } });
    expect(rulePreview(r)).toMatch(/, escalating to Workshop after 15 min, to Admin after 30 min and to CEO after 45 min\.$/);
  });
});

describe('joinAnd', () => {
  it('joins with commas and a final "and"', () => {
    expect(joinAnd([])).toBe('');
    expect(joinAnd(['A'])).toBe('A');
    expect(joinAnd(['A', 'B'])).toBe('A and B');
    expect(joinAnd(['A', 'B', 'C', 'D'])).toBe('A, B, C and D');
  });
});
