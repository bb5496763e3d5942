import fc from 'fast-check';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { HeraldError } from '../errors';
import { CHANNEL_KINDS } from '../model/channels';
import { OPS, RuleInputSchema, type RuleInput } from './schema';
import { PRIORITIES, SEVERITIES } from '../model/levels';
import { assertUniqueNames, changedFields, exportRules, IMPORT_MODES, parseRulesDocument, planImport } from './transfer';
import { jsonProblem } from '../platform/input';

const overdue = RuleInputSchema.parse({
  name: 'Overdue invoices', enabled: true, position: 10, continue: false,
  match: { category: 'finance', type: 'invoice_overdue', min_severity: 'warning',
    conditions: [{ field: 'metadata.amount', op: 'gte', value: 10000 }] },
  targets: { roles: ['accounting'], users: [] },
  channels: ['in_app', 'email', 'slack'], priority: 'high',
  escalation: { steps: [{ after_minutes: 60, roles: ['admin'] }, { after_minutes: 120, roles: ['ceo'] }], repeat: 0 },
  sop: { title: 'Chase the invoice', steps: ['Call the customer', 'Log the promise date'], url: null },
});
// Strings YAML would read as something else if written carelessly, plus regex punctuation and unicode.
const tricky = RuleInputSchema.parse({
  name: 'yes', enabled: false, position: 0, continue: true,
  match: { category: 'sales', type: null, conditions: [
    { field: 'metadata.code', op: 'eq', value: '010' },
    { field: 'metadata.flag', op: 'in', value: ['null', 'true', '~', 'no', 1.5, null, false] },
    { field: 'entity.name', op: 'matches', value: '^#? *[\\w-]+: "x"\\s*$' },
    { field: 'metadata.when', op: 'lt', value: '2024-01-01T00:00:00Z' },
    { field: 'metadata.obj', op: 'eq', value: { nested: ['a: b', { '#': '- item' }] } },
    { field: 'metadata.po', op: 'exists' },
  ] },
  targets: { roles: ['sales'], users: [3, 14] },
  channels: ['sms', 'discord'],
  escalation: { steps: [{ after_minutes: 0.5, users: [3] }], repeat: 2 },
  discord_channel: '#sales-ops',
  sop: { title: 'Rückruf — 顧客 📞', steps: ['line one\nline two', '  leading spaces', 'ends with colon:'], url: 'https://wiki.example.com/sop?id=1&x=y' },
});

const FIELD_ORDER = ['name', 'enabled', 'position', 'continue', 'match', 'targets', 'channels', 'priority', 'escalation',
  'slack_channel', 'discord_channel', 'sop'];

function heraldError(fn: () => unknown): HeraldError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HeraldError);
    return e as HeraldError;
  }
  throw new Error('expected a HeraldError, nothing was thrown');
}

describe('exportRules', () => {
  it('writes { version: 1, rules } with rule fields only, in schema order', () => {
    const stored = { ...overdue, id: 42, org_id: 1, created_at: '2024-01-01T00:00:00Z', updated_at: '2024-01-02T00:00:00Z' };
    const readers = { json: (t: string) => JSON.parse(t), yaml: (t: string) => YAML.parse(t) };
    for (const format of ['json', 'yaml'] as const) {
      const read = readers[format];
      const doc = read(exportRules([stored], format));
      expect(Object.keys(doc)).toEqual(['version', 'rules']);
      expect(doc.version).toBe(1);
      expect(doc.rules).toHaveLength(1);
      expect(Object.keys(doc.rules[0])).toEqual(FIELD_ORDER);
      expect(Object.keys(doc.rules[0].match)).toEqual(['category', 'type', 'min_severity', 'conditions']);
      expect(doc.rules[0]).toEqual(overdue);
    }
  });

  it('exports an empty list as an empty document', () => {
    expect(parseRulesDocument(exportRules([], 'json'))).toEqual({ rules: [] });
    expect(parseRulesDocument(exportRules([], 'yaml'))).toEqual({ rules: [] });
  });
});

describe('parseRulesDocument round trip', () => {
  it.each([
    ['json', 'application/json'],
    ['json', undefined],
    ['yaml', 'application/yaml'],
    ['yaml', 'text/x-yaml; charset=utf-8'],
    ['yaml', undefined],
  ] as const)('export %s then parse (content type %s) gives the same rules', (format, contentType) => {
    const rules = [overdue, tricky];
    expect(parseRulesDocument(exportRules(rules, format), contentType)).toEqual({ rules });
  });

  // Valid rules of every shape the schema allows.
  const slug = fc.stringMatching(/^[a-z0-9][a-z0-9_.-]{0,12}$/);
  const roleKey = fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/);
  // Any code point but NUL, which no outside string may carry (db/platform/input.ts).
  const text = (maxLength: number) => fc.string({ unit: 'binary', minLength: 1, maxLength }).map((s) => s.replaceAll('\u0000', '_'));
  // JSON cannot say -0; a stored rule's value has been through JSON anyway.
  const json = fc.jsonValue({ stringUnit: 'binary', maxDepth: 3 }).filter((v) => jsonProblem(v) === null).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
  const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const condition = fc.oneof(
    fc.record({ op: fc.constantFrom(...OPS.filter((o) => !['in', 'exists', 'matches'].includes(o))), value: json }),
    fc.record({ op: fc.constant('in' as const), value: fc.array(json, { maxLength: 4 }) }),
    fc.record({ op: fc.constant('exists' as const) }),
    fc.record({ op: fc.constant('matches' as const), value: fc.oneof(text(20).map(escapeRe), fc.constantFrom('^a+$', '\\d{3}-\\d+', '(?<id>INV-\\d+)')) }),
  ).chain((c) => fc.stringMatching(/^(metadata|entity)(\.[A-Za-z0-9_-]{1,6}){1,3}$/).map((field) => ({ field, ...c })));
  const step = fc.record({ gap: fc.integer({ min: 1, max: 600 }), frac: fc.constantFrom(0, 0.25, 0.5), roles: fc.array(roleKey, { minLength: 1, maxLength: 3 }), users: fc.array(fc.integer({ min: 1, max: 1e6 }), { maxLength: 3 }) });
  const ruleArb: fc.Arbitrary<RuleInput> = fc
    .record({
      name: text(60),
      enabled: fc.boolean(),
      position: fc.integer({ min: 0, max: 1_000_000 }),
      continue: fc.boolean(),
      match: fc.record({ category: slug, type: fc.option(slug), min_severity: fc.constantFrom(...SEVERITIES), conditions: fc.array(condition, { maxLength: 4 }) }),
      targets: fc.record({ roles: fc.array(roleKey, { maxLength: 3 }), users: fc.array(fc.integer({ min: 1, max: 1e6 }), { maxLength: 3 }) }),
      channels: fc.shuffledSubarray([...CHANNEL_KINDS], { minLength: 1 }),
      priority: fc.constantFrom(...PRIORITIES),
      escalation: fc.record({ steps: fc.array(step, { maxLength: 4 }), repeat: fc.integer({ min: 0, max: 10 }) }),
      slack_channel: fc.option(text(40)),
      discord_channel: fc.option(text(40)),
      sop: fc.option(fc.record({ title: text(60), steps: fc.array(text(80), { maxLength: 4 }), url: fc.option(fc.constantFrom('https://example.com/a?b=c#d', 'http://wiki.local/sop')) })),
    })
    .map((raw) => {
      let at = 0;
      const steps = raw.escalation.steps.map(({ gap, frac, roles, users }) => ({ after_minutes: (at += gap) + frac, roles, users }));
      return RuleInputSchema.parse({ ...raw, escalation: { ...raw.escalation, steps } });
    });

  it.each(['json', 'yaml'] as const)('any valid rules survive %s export and import unchanged', (format) => {
    fc.assert(
      fc.property(fc.array(ruleArb, { maxLength: 4 }), (rules) => {
        expect(parseRulesDocument(exportRules(rules, format))).toEqual({ rules });
      }),
      { numRuns: 300 },
    );
  });

  it('importing what was exported changes nothing, in either mode; an empty replace removes everything', () => {
    fc.assert(
      fc.property(fc.uniqueArray(ruleArb, { maxLength: 5, selector: (r) => r.name }), fc.constantFrom('json', 'yaml' as const), (rules, format) => {
        const existing = rules.map((r, i) => ({ ...r, id: i + 1 }));
        const { rules: incoming } = parseRulesDocument(exportRules(existing, format));
        for (const mode of IMPORT_MODES) {
          const plan = planImport(existing, incoming, mode);
          expect([plan.added, plan.changed, plan.removed, plan.unchanged]).toEqual([0, 0, 0, rules.length]);
        }
        expect(planImport(existing, [], 'merge').items).toEqual([]);
        expect(planImport(existing, [], 'replace').items.map((i) => [i.outcome, i.id])).toEqual(existing.map((r) => ['removed', r.id]));
      }),
      { numRuns: 200 },
    );
  });
});

describe('planImport', () => {
  const rule = (name: string, extra: Partial<Record<keyof RuleInput, unknown>> = {}) => RuleInputSchema.parse({ name, match: { category: 'sales' }, ...extra });
  const existing = [
    { ...rule('A'), id: 1 },
    { ...rule('B', { priority: 'high' }), id: 2 },
    { ...rule('C'), id: 3 },
    { ...rule('B', { priority: 'low' }), id: 4 }, // a second stored rule named B
  ];

  it('merge adds and updates by name and removes nothing', () => {
    const plan = planImport(existing, [rule('B', { priority: 'critical', match: { category: 'sales', min_severity: 'error' } }), rule('A'), rule('D')], 'merge');
    expect(plan).toMatchObject({ added: 1, changed: 1, unchanged: 1, removed: 0 });
    expect(plan.items.map(({ outcome, name, id, fields }) => ({ outcome, name, id, fields }))).toEqual([
      { outcome: 'changed', name: 'B', id: 2, fields: ['match.min_severity', 'priority'] }, // the first B in list order
      { outcome: 'unchanged', name: 'A', id: 1, fields: undefined },
      { outcome: 'added', name: 'D', id: null, fields: undefined },
    ]);
    expect(plan.items[0].previous).toMatchObject({ name: 'B', priority: 'high' });
  });

  it('replace also removes every rule the document does not name, the second B included', () => {
    const plan = planImport(existing, [rule('B', { priority: 'high' })], 'replace');
    expect(plan).toMatchObject({ added: 0, changed: 0, unchanged: 1, removed: 3 });
    expect(plan.items.filter((i) => i.outcome === 'removed').map((i) => i.id)).toEqual([1, 3, 4]);
  });

  it('compares values, not key order or how a stored rule spells its defaults', () => {
    const stored = { ...rule('A'), id: 1, match: { conditions: [{ value: { b: 1, a: [1, { y: 2, x: 1 }] }, op: 'eq', field: 'metadata.v' }], min_severity: 'info', type: null, category: 'sales' } } as never;
    const incoming = rule('A', { match: { category: 'sales', conditions: [{ field: 'metadata.v', op: 'eq', value: { a: [1, { x: 1, y: 2 }], b: 1 } }] } });
    expect(planImport([stored], [incoming], 'merge').unchanged).toBe(1);
    // A rule stored before a field had a default (escalation.repeat missing) still equals its defaulted self.
    const old = { ...rule('E'), id: 9, escalation: { steps: [] } } as never;
    expect(planImport([old], [rule('E')], 'merge').unchanged).toBe(1);
  });

  it('names whole fields, or the parts of match, targets, escalation and sop that differ', () => {
    const a = rule('A', { sop: { title: 'x', steps: ['1'] }, targets: { roles: ['admin'] } });
    expect(changedFields(a, rule('A', { sop: { title: 'x', steps: ['1', '2'] }, targets: { roles: ['admin'] } }))).toEqual(['sop.steps']);
    expect(changedFields(a, rule('A', { targets: { roles: ['admin'] } }))).toEqual(['sop']);
    expect(changedFields(a, rule('A', { sop: { title: 'x', steps: ['1'] }, channels: ['email'], enabled: false, targets: { roles: [], users: [7] } }))).toEqual(['enabled', 'targets.roles', 'targets.users', 'channels']);
  });

  it('refuses a document naming one rule twice, naming each repeat', () => {
    expect(() => assertUniqueNames([rule('A'), rule('B')])).not.toThrow();
    const e = heraldError(() => assertUniqueNames([rule('A'), rule('B'), rule('A'), rule('A'), rule('B')]));
    expect(e.status).toBe(400);
    expect(e.message).toContain('"A" (rules 0, 2, 3); "B" (rules 1, 4)');
    expect(e.errors?.map((x) => x.path)).toEqual(['rules.2.name', 'rules.3.name', 'rules.4.name']);
  });

  it('refuses text Postgres cannot store, naming where it is', () => {
    const e = heraldError(() => parseRulesDocument(JSON.stringify([{ name: 'a\u0000b', match: { category: 'sales' }, sop: { title: 't', steps: ['ok', 'x\u0000'] } }])));
    expect(e.errors?.map((x) => x.path)).toEqual(['rules.0.name', 'rules.0.sop.steps.1']);
  });
});

describe('parseRulesDocument input', () => {
  const minimal = { name: 'All sales', match: { category: 'sales' } };

  it('accepts a bare array and fills defaults', () => {
    const { rules } = parseRulesDocument(JSON.stringify([minimal]));
    expect(rules).toEqual([RuleInputSchema.parse(minimal)]);
    expect(rules[0]).toMatchObject({ enabled: true, position: 100, channels: ['in_app'], match: { type: null, min_severity: 'info' } });
    const fromYaml = parseRulesDocument('- name: All sales\n  match:\n    category: sales\n', 'application/yaml');
    expect(fromYaml.rules).toEqual(rules);
  });

  it('rejects an invalid regular expression, naming its path, and returns no rules at all', () => {
    const rules = [minimal, minimal, minimal, { ...minimal, match: { category: 'sales', conditions: [{ field: 'entity.name', op: 'matches', value: '(unclosed' }] } }];
    for (const [text, ct] of [[JSON.stringify({ version: 1, rules }), 'application/json'], [YAML.stringify({ rules }), undefined]] as const) {
      const e = heraldError(() => parseRulesDocument(text, ct));
      expect(e.status).toBe(400);
      expect(e.errors).toHaveLength(1);
      expect(e.errors?.[0].path).toBe('rules.3.match.conditions.0.value');
      expect(e.errors?.[0].message).toMatch(/invalid regular expression for entity\.name/);
      expect(e.message).toContain('rules.3.match.conditions.0.value');
    }
  });

  it('rejects unknown fields on a rule and inside it', () => {
    const e = heraldError(() => parseRulesDocument(JSON.stringify([minimal, { ...minimal, colour: 'red' }])));
    expect(e.status).toBe(400);
    expect(e.errors).toEqual([{ path: 'rules.1', message: expect.stringContaining('colour') }]);
    const nested = heraldError(() => parseRulesDocument(JSON.stringify([{ name: 'x', match: { category: 'sales', conditons: [] } }])));
    expect(nested.errors).toEqual([{ path: 'rules.0.match', message: expect.stringContaining('conditons') }]);
  });

  it('names every bad field across rules', () => {
    const e = heraldError(() => parseRulesDocument(JSON.stringify({ rules: [
      { name: '', match: { category: 'sales' } },
      minimal,
      { name: 'x', match: { category: 'Sales' }, channels: ['fax'] },
    ] })));
    expect(e.errors?.map((x) => x.path).sort()).toEqual(['rules.0.name', 'rules.2.channels.0', 'rules.2.match.category']);
  });

  it('rejects documents of the wrong shape or version', () => {
    expect(heraldError(() => parseRulesDocument(JSON.stringify({ version: 2, rules: [] }))).errors?.[0].path).toBe('version');
    expect(heraldError(() => parseRulesDocument(JSON.stringify({ rulez: [] }))).status).toBe(400);
    expect(heraldError(() => parseRulesDocument('42')).errors?.[0].path).toBe('(root)');
    expect(heraldError(() => parseRulesDocument('')).status).toBe(400);
    expect(heraldError(() => parseRulesDocument('null')).status).toBe(400);
  });

  it('rejects text that is not JSON or YAML, or not the declared content type', () => {
    expect(heraldError(() => parseRulesDocument('{"rules": [', 'application/json')).message).toMatch(/not valid JSON/);
    expect(heraldError(() => parseRulesDocument('rules: [1, 2\n  - x: : :', undefined)).message).toMatch(/not valid JSON or YAML/);
    expect(heraldError(() => parseRulesDocument('rules:\n  - a\nrules:\n  - b\n', 'application/yaml')).message).toMatch(/not valid YAML/);
    expect(heraldError(() => parseRulesDocument('rules: []', 'application/json')).message).toMatch(/not valid JSON/);
  });

  it('refuses a YAML alias bomb instead of expanding it', () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 10; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      lines.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    lines.push('rules: *j');
    const e = heraldError(() => parseRulesDocument(lines.join('\n'), 'application/yaml'));
    expect(e.status).toBe(400);
    expect(e.message).toMatch(/not valid YAML: .*alias/i);
  });
});
