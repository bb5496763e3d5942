import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { conditionHolds, getField, MATCH_INPUT_LIMIT, regexCacheSize, ruleMatches, selectRules } from './match';
import { OPS, RuleInputSchema, type Condition, type MatchableEvent, type RuleInput } from './schema';
import { SEVERITIES, type Severity } from '../model/levels';

function event(over: Partial<MatchableEvent> = {}): MatchableEvent {
  return {
    category: 'finance',
    type: 'invoice_overdue',
    severity: 'warning',
    metadata: {
      amount: 12500,
      amount_text: '12500',
      invoice: '007',
      customer: { name: 'Acme GmbH', tier: 'gold', tags: ['vip', 'eu'] },
      days: 30,
      region: 'EU',
      paid: false,
      note: null,
      due: '2024-03-01T00:00:00Z',
      lines: [{ sku: 'A-1' }, { sku: 'B-2' }],
    },
    entity: { kind: 'invoice', id: '1042', name: 'Invoice 1042' },
    ...over,
  };
}

const holds = (field: string, op: Condition['op'], value?: unknown, ev = event()) =>
  conditionHolds({ field, op, value }, ev);

describe('getField', () => {
  it('reads nested metadata and entity paths', () => {
    expect(getField(event(), 'metadata.amount')).toBe(12500);
    expect(getField(event(), 'metadata.customer.name')).toBe('Acme GmbH');
    expect(getField(event(), 'metadata.customer.tags.1')).toBe('eu');
    expect(getField(event(), 'metadata.lines.1.sku')).toBe('B-2');
    expect(getField(event(), 'entity.kind')).toBe('invoice');
  });

  it('treats absent steps, other roots and a null entity as missing', () => {
    expect(getField(event(), 'metadata.nope')).toBeUndefined();
    expect(getField(event(), 'metadata.customer.name.first')).toBeUndefined(); // a string has no sub-fields
    expect(getField(event(), 'metadata.note.x')).toBeUndefined();
    expect(getField(event(), 'metadata')).toBeUndefined();
    expect(getField(event(), 'category')).toBeUndefined();
    expect(getField(event({ entity: null }), 'entity.kind')).toBeUndefined();
    expect(getField(event(), 'metadata.lines.length')).toBeUndefined(); // arrays are indexed by digits only
    expect(getField(event(), 'metadata.lines.01')).toBeUndefined();
  });

  it('never walks into prototypes', () => {
    for (const path of ['metadata.__proto__', 'metadata.constructor', 'metadata.toString', 'metadata.constructor.name',
      'metadata.hasOwnProperty', 'entity.__proto__.polluted', 'metadata.customer.valueOf', 'metadata.lines.map']) {
      expect(getField(event(), path), path).toBeUndefined();
    }
    // An object whose prototype carries the key: still missing.
    const proto = { secret: 1 };
    expect(getField(event({ metadata: Object.create(proto) }), 'metadata.secret')).toBeUndefined();
  });

  it('reads an own __proto__ key from parsed JSON as data, without touching any prototype', () => {
    const metadata = JSON.parse('{"__proto__": {"x": 5}}') as Record<string, unknown>;
    expect(getField(event({ metadata }), 'metadata.__proto__.x')).toBe(5);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('ignores getters and survives throwing proxies', () => {
    let called = false;
    const metadata = Object.defineProperty({}, 'g', { enumerable: true, get: () => ((called = true), 1) });
    expect(getField(event({ metadata }), 'metadata.g')).toBeUndefined();
    expect(called).toBe(false);
    const hostile = new Proxy({}, { getOwnPropertyDescriptor: () => { throw new Error('boom'); } });
    expect(getField(event({ metadata: hostile }), 'metadata.a')).toBeUndefined();
    expect(holds('metadata.a', 'exists', undefined, event({ metadata: hostile }))).toBe(false);
  });
});

describe('conditionHolds, op by op', () => {
  it('eq / neq: exact strings, numbers and numeric strings numerically, deep equality otherwise', () => {
    expect(holds('metadata.amount', 'eq', 12500)).toBe(true);
    expect(holds('metadata.amount', 'eq', '12500')).toBe(true);
    expect(holds('metadata.amount_text', 'eq', 12500)).toBe(true);
    expect(holds('metadata.amount_text', 'eq', 12500.0001)).toBe(false);
    expect(holds('metadata.invoice', 'eq', '007')).toBe(true);
    expect(holds('metadata.invoice', 'eq', '7')).toBe(false); // two strings: exact
    expect(holds('metadata.invoice', 'eq', 7)).toBe(true); // string vs number: numeric
    expect(holds('metadata.region', 'eq', 'eu')).toBe(false); // case-sensitive
    expect(holds('metadata.paid', 'eq', false)).toBe(true);
    expect(holds('metadata.paid', 'eq', 'false')).toBe(false);
    expect(holds('metadata.note', 'eq', null)).toBe(true);
    expect(holds('metadata.customer.tags', 'eq', ['vip', 'eu'])).toBe(true);
    expect(holds('metadata.customer.tags', 'eq', ['eu', 'vip'])).toBe(false);
    expect(holds('metadata.lines.0', 'eq', { sku: 'A-1' })).toBe(true);
    expect(holds('metadata.lines.0', 'eq', { sku: 'A-1', extra: 1 })).toBe(false);

    expect(holds('metadata.region', 'neq', 'US')).toBe(true);
    expect(holds('metadata.region', 'neq', 'EU')).toBe(false);
    expect(holds('metadata.amount', 'neq', '12500')).toBe(false);
    expect(holds('metadata.note', 'neq', 5)).toBe(true); // null is a present value
    expect(holds('metadata.missing', 'neq', 'EU')).toBe(false); // missing never matches
  });

  it('gt / gte / lt / lte: numeric for numbers and numeric strings, code-unit order for other strings', () => {
    expect(holds('metadata.amount', 'gte', 10000)).toBe(true);
    expect(holds('metadata.amount', 'gte', 12500)).toBe(true);
    expect(holds('metadata.amount', 'gt', 12500)).toBe(false);
    expect(holds('metadata.amount', 'gt', '9999.5')).toBe(true);
    expect(holds('metadata.amount_text', 'gt', 9000)).toBe(true);
    expect(holds('metadata.amount_text', 'gt', '9000')).toBe(true); // "12500" > "9000" numerically, not as text
    expect(holds('metadata.amount', 'lt', 12500)).toBe(false);
    expect(holds('metadata.amount', 'lte', 12500)).toBe(true);
    expect(holds('metadata.days', 'lt', 31)).toBe(true);
    expect(holds('metadata.due', 'gt', '2024-02-29T23:59:59Z')).toBe(true);
    expect(holds('metadata.due', 'lt', '2024-02-29T23:59:59Z')).toBe(false);
    expect(holds('metadata.region', 'gt', 5)).toBe(false); // not comparable
    expect(holds('metadata.paid', 'lt', 1)).toBe(false);
    expect(holds('metadata.note', 'gte', 0)).toBe(false);
    expect(holds('metadata.customer', 'gt', 0)).toBe(false);
  });

  it('in: the rule array holds the field, with eq equality', () => {
    expect(holds('metadata.region', 'in', ['US', 'EU'])).toBe(true);
    expect(holds('metadata.region', 'in', ['US', 'UK'])).toBe(false);
    expect(holds('metadata.days', 'in', ['30', 60])).toBe(true);
    expect(holds('metadata.region', 'in', [])).toBe(false);
    expect(holds('metadata.region', 'in', 'EU')).toBe(false); // not an array
  });

  it('contains: substring of a string (case-sensitive) or element of an array', () => {
    expect(holds('metadata.customer.name', 'contains', 'Acme')).toBe(true);
    expect(holds('metadata.customer.name', 'contains', 'acme')).toBe(false);
    expect(holds('entity.name', 'contains', 1042)).toBe(true);
    expect(holds('metadata.customer.tags', 'contains', 'vip')).toBe(true);
    expect(holds('metadata.customer.tags', 'contains', 'vi')).toBe(false); // element, not substring
    expect(holds('metadata.lines', 'contains', { sku: 'B-2' })).toBe(true);
    expect(holds('metadata.amount', 'contains', '125')).toBe(false); // a number is not a string
    expect(holds('metadata.customer', 'contains', 'name')).toBe(false);
  });

  it('exists: present and not null', () => {
    expect(holds('metadata.amount', 'exists')).toBe(true);
    expect(holds('metadata.paid', 'exists')).toBe(true); // false is a value
    expect(holds('entity.kind', 'exists')).toBe(true);
    expect(holds('metadata.note', 'exists')).toBe(false);
    expect(holds('metadata.missing', 'exists')).toBe(false);
    expect(holds('entity.kind', 'exists', undefined, event({ entity: null }))).toBe(false);
  });

  it('matches: a regular expression on the string form of strings and numbers', () => {
    expect(holds('metadata.customer.name', 'matches', '^Acme\\b')).toBe(true);
    expect(holds('metadata.customer.name', 'matches', '^acme')).toBe(false);
    expect(holds('metadata.amount', 'matches', '^125\\d\\d$')).toBe(true);
    expect(holds('metadata.paid', 'matches', 'false')).toBe(false); // booleans have no string form here
    expect(holds('metadata.customer.tags', 'matches', 'vip')).toBe(false);
    expect(holds('metadata.region', 'matches', '(unclosed')).toBe(false); // invalid pattern: no match, no throw
    expect(holds('metadata.region', 'matches', 5)).toBe(false);
  });

  it('matches: tests only the first 10,000 characters', () => {
    const long = 'a'.repeat(MATCH_INPUT_LIMIT) + 'NEEDLE';
    const ev = event({ metadata: { text: long } });
    expect(holds('metadata.text', 'matches', 'NEEDLE', ev)).toBe(false);
    expect(holds('metadata.text', 'matches', '^a+$', ev)).toBe(true); // RE2 caps repeat counts at 1,000: a{10000} is refused
    const justFits = event({ metadata: { text: 'a'.repeat(MATCH_INPUT_LIMIT - 6) + 'NEEDLE' } });
    expect(holds('metadata.text', 'matches', 'NEEDLE$', justFits)).toBe(true);
  });

  it('matches: runs in linear time on RE2; what RE2 cannot run never matches and is refused when saved', () => {
    // The pattern and input of issue 14: exponential backtracking in RegExp (seconds), linear here.
    const evil = event({ metadata: { s: 'a'.repeat(28) + '!', long: 'a'.repeat(MATCH_INPUT_LIMIT - 1) + '!' } });
    const t0 = performance.now();
    expect(holds('metadata.s', 'matches', '^(a+)+$', evil)).toBe(false);
    expect(holds('metadata.long', 'matches', '^(a+)+$', evil)).toBe(false);
    expect(holds('metadata.long', 'matches', '(a|aa)+$', evil)).toBe(false);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(holds('metadata.s', 'matches', '^(a+)+!$', evil)).toBe(true);
    // Backreferences and lookaround are not RE2: never match, and a rule with them is not saved.
    expect(holds('metadata.region', 'matches', '(E)\\1')).toBe(false);
    expect(holds('metadata.region', 'matches', 'E(?=U)')).toBe(false);
    const rule = (value: string) => RuleInputSchema.safeParse({ name: 'r', match: { category: 'finance', conditions: [{ field: 'metadata.region', op: 'matches', value }] } });
    for (const bad of ['(E)\\1', 'E(?=U)', '(unclosed', 'a{10000}', '\\w{1000}\\w{1000}', 'x'.repeat(1001)]) {
      const r = rule(bad);
      expect(r.success, bad).toBe(false);
      expect(r.error!.issues[0].path).toEqual(['match', 'conditions', 0, 'value']);
    }
    expect(rule('^(a+)+$').success).toBe(true);
  });

  it('matches: the pattern cache stays bounded', () => {
    for (let i = 0; i < 2000; i++) holds('metadata.region', 'matches', `^E${i}|EU$`);
    expect(regexCacheSize()).toBeGreaterThan(0);
    expect(regexCacheSize()).toBeLessThanOrEqual(500);
    expect(holds('metadata.region', 'matches', '^E1999|EU$')).toBe(true);
  });

  it('a missing field never matches, for every op', () => {
    const values: unknown[] = [null, 0, '', 'x', [], ['x'], {}, false];
    for (const op of OPS) for (const value of values) {
      expect(holds('metadata.absent', op, value), `${op} ${JSON.stringify(value)}`).toBe(false);
      expect(holds('entity.kind', op, value, event({ entity: null })), `${op} on null entity`).toBe(false);
    }
  });

  it('an unknown op never matches', () => {
    expect(conditionHolds({ field: 'metadata.amount', op: 'like' as Condition['op'], value: 1 }, event())).toBe(false);
  });
});

// ---- properties ----

const segment = fc.oneof(
  fc.constantFrom('a', 'b', 'amount', '0', '1', '__proto__', 'constructor', 'toString', 'length', 'prototype'),
  fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/),
);
const fieldArb = fc
  .tuple(fc.constantFrom('metadata', 'entity'), fc.array(segment, { minLength: 1, maxLength: 4 }))
  .map(([root, rest]) => [root, ...rest].join('.'));
const valueArb = fc.oneof(
  fc.jsonValue(),
  fc.array(fc.jsonValue(), { maxLength: 5 }),
  fc.constantFrom('(', '[a-', '^a+$', '(a+)+$', '\\d', '10000', '-1.5e3', ' 7 ', 'NaN', 'Infinity'),
  fc.double(),
  fc.constant(undefined),
);
const conditionArb: fc.Arbitrary<Condition> = fc.record({ field: fieldArb, op: fc.constantFrom(...OPS), value: valueArb });
const severityArb = fc.constantFrom(...SEVERITIES);
const eventArb: fc.Arbitrary<MatchableEvent> = fc.record({
  category: fc.constantFrom('finance', 'sales'),
  type: fc.constantFrom('invoice_overdue', 'deal_lost'),
  severity: severityArb,
  metadata: fc.jsonValue() as fc.Arbitrary<Record<string, unknown>>, // deliberately any JSON, not only objects
  entity: fc.option(fc.jsonValue()) as fc.Arbitrary<Record<string, unknown> | null>,
});

describe('conditionHolds properties', () => {
  it('never throws and always answers a boolean, for arbitrary JSON events and conditions', () => {
    fc.assert(
      fc.property(conditionArb, eventArb, (c, ev) => {
        expect(typeof conditionHolds(c, ev)).toBe('boolean');
      }),
      { numRuns: 3000 },
    );
  });

  it('holds on object metadata too (where paths usually resolve)', () => {
    const objMeta = fc.dictionary(segment, fc.jsonValue(), { maxKeys: 6 });
    fc.assert(
      fc.property(conditionArb, objMeta, (c, metadata) => {
        const ev: MatchableEvent = { category: 'finance', type: 't', severity: 'info', metadata, entity: metadata };
        expect(typeof conditionHolds(c, ev)).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });

  it('a condition on a field the event does not have never matches', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 6 }),
        segment,
        fc.array(segment, { maxLength: 3 }),
        fc.constantFrom(...OPS),
        valueArb,
        (metadata, key, rest, op, value) => {
          fc.pre(!Object.prototype.hasOwnProperty.call(metadata, key));
          const ev: MatchableEvent = { category: 'finance', type: 't', severity: 'info', metadata, entity: null };
          expect(conditionHolds({ field: ['metadata', key, ...rest].join('.'), op, value }, ev)).toBe(false);
          expect(conditionHolds({ field: ['entity', key, ...rest].join('.'), op, value }, ev)).toBe(false);
        },
      ),
    );
  });

  it('for numbers, gte is exactly gt or eq, lte is lt or eq, and exactly one of lt, eq, gt holds', () => {
    const n = fc.oneof(fc.double({ noNaN: true }), fc.integer({ min: -5, max: 5 }));
    const asField = fc.oneof(n.map((x) => x as unknown), n.filter(Number.isFinite).map((x) => String(x) as unknown));
    fc.assert(
      fc.property(asField, n, (field, value) => {
        const ev: MatchableEvent = { category: 'c', type: 't', severity: 'info', metadata: { x: field }, entity: null };
        const at = (op: Condition['op']) => conditionHolds({ field: 'metadata.x', op, value }, ev);
        expect(at('gte')).toBe(at('gt') || at('eq'));
        expect(at('lte')).toBe(at('lt') || at('eq'));
        expect([at('lt'), at('eq'), at('gt')].filter(Boolean)).toHaveLength(1);
        expect(at('neq')).toBe(!at('eq'));
        expect(at('eq')).toBe(Number(field) === value);
      }),
      { numRuns: 2000 },
    );
  });

  it('in agrees with eq on each element', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.array(fc.jsonValue(), { maxLength: 5 }), (field, list) => {
        const ev: MatchableEvent = { category: 'c', type: 't', severity: 'info', metadata: { x: field }, entity: null };
        const inList = conditionHolds({ field: 'metadata.x', op: 'in', value: list }, ev);
        const anyEq = list.some((v) => conditionHolds({ field: 'metadata.x', op: 'eq', value: v }, ev));
        expect(inList).toBe(anyEq);
      }),
    );
  });
});

// ---- rules ----

const rule = (over: Omit<Partial<RuleInput>, 'match'> & { match?: Partial<RuleInput['match']> } = {}) =>
  RuleInputSchema.parse({ name: 'r', ...over, match: { category: 'finance', ...over.match } });

describe('ruleMatches', () => {
  const overdue = rule({
    match: { type: 'invoice_overdue', min_severity: 'warning', conditions: [{ field: 'metadata.amount', op: 'gte', value: 10000 }] },
  });

  it('matches the docs/design.md example event', () => {
    expect(ruleMatches(overdue, event())).toBe(true);
  });

  it('needs the rule enabled', () => {
    expect(ruleMatches({ ...overdue, enabled: false }, event())).toBe(false);
  });

  it('needs the same category and type, unless the rule takes every type', () => {
    expect(ruleMatches(overdue, event({ category: 'sales' }))).toBe(false);
    expect(ruleMatches(overdue, event({ type: 'invoice_paid' }))).toBe(false);
    const allFinance = rule({ match: { type: null } });
    expect(ruleMatches(allFinance, event({ type: 'invoice_paid' }))).toBe(true);
    expect(ruleMatches(allFinance, event({ category: 'sales' }))).toBe(false);
  });

  it('needs severity at least min_severity', () => {
    const at = (severity: Severity) => ruleMatches(overdue, event({ severity }));
    expect(SEVERITIES.map(at)).toEqual([false, true, true, true]);
    const critOnly = rule({ match: { min_severity: 'critical' } });
    expect(SEVERITIES.map((severity) => ruleMatches(critOnly, event({ severity })))).toEqual([false, false, false, true]);
    expect(ruleMatches(rule(), event({ severity: 'bogus' as Severity }))).toBe(false);
  });

  it('needs every condition', () => {
    expect(ruleMatches(overdue, event({ metadata: { amount: 9999 } }))).toBe(false);
    expect(ruleMatches(overdue, event({ metadata: {} }))).toBe(false);
    const two = rule({ match: { conditions: [
      { field: 'metadata.amount', op: 'gte', value: 10000 },
      { field: 'metadata.region', op: 'eq', value: 'EU' },
    ] } });
    expect(ruleMatches(two, event())).toBe(true);
    expect(ruleMatches(two, event({ metadata: { amount: 20000, region: 'US' } }))).toBe(false);
  });
});

describe('selectRules', () => {
  it('walks by position then id, first match wins, continue goes on', () => {
    const rules = [
      { ...rule({ position: 20 }), id: 1 },
      { ...rule({ position: 10, match: { category: 'sales' } }), id: 2 },
      { ...rule({ position: 10, continue: true }), id: 5 },
      { ...rule({ position: 10 }), id: 9 },
      { ...rule({ position: 5, enabled: false }), id: 3 },
    ];
    expect(selectRules(rules, event()).map((r) => r.id)).toEqual([5, 9]);
    const noContinue = rules.map((r) => ({ ...r, continue: false }));
    expect(selectRules(noContinue, event()).map((r) => r.id)).toEqual([5]);
    const allContinue = rules.map((r) => ({ ...r, continue: true }));
    expect(selectRules(allContinue, event()).map((r) => r.id)).toEqual([5, 9, 1]);
    expect(selectRules(rules, event({ category: 'system' }))).toEqual([]);
  });

  it('does not reorder the caller’s array', () => {
    const rules = [{ ...rule({ position: 2 }), id: 1 }, { ...rule({ position: 1 }), id: 2 }];
    selectRules(rules, event());
    expect(rules.map((r) => r.id)).toEqual([1, 2]);
  });

  type R = ReturnType<typeof rule> & { id: number };
  const rulesArb: fc.Arbitrary<R[]> = fc
    .uniqueArray(
      fc.record({
        id: fc.integer({ min: 1, max: 1000 }),
        position: fc.integer({ min: 0, max: 5 }),
        cont: fc.boolean(),
        enabled: fc.boolean(),
        category: fc.constantFrom('finance', 'sales'),
        type: fc.constantFrom(null, 'invoice_overdue', 'deal_lost'),
        min_severity: severityArb,
      }),
      { selector: (r) => r.id, maxLength: 12 },
    )
    .map((rs) =>
      rs.map((r) => ({
        ...rule({ position: r.position, continue: r.cont, enabled: r.enabled,
          match: { category: r.category, type: r.type, min_severity: r.min_severity } }),
        id: r.id,
      })),
    );
  const simpleEvent = fc.record({
    category: fc.constantFrom('finance', 'sales'),
    type: fc.constantFrom('invoice_overdue', 'deal_lost'),
    severity: severityArb,
  }).map((e): MatchableEvent => ({ ...e, metadata: {}, entity: null }));

  const before = (a: R, b: R) => a.position < b.position || (a.position === b.position && a.id < b.id);

  it('returns matches in order; only the last may lack continue; nothing matching is skipped before it', () => {
    fc.assert(
      fc.property(rulesArb, simpleEvent, (rules, ev) => {
        const got = selectRules(rules, ev);
        const matching = rules.filter((r) => ruleMatches(r, ev));
        expect(got.every((r) => ruleMatches(r, ev))).toBe(true);
        for (let i = 1; i < got.length; i++) expect(before(got[i - 1], got[i])).toBe(true);
        got.slice(0, -1).forEach((r) => expect(r.continue).toBe(true));
        if (got.length === 0) {
          expect(matching).toEqual([]);
          return;
        }
        const last = got[got.length - 1];
        // every matching rule up to the last returned one is returned
        expect(matching.filter((r) => !before(last, r)).length).toBe(got.length);
        // the walk only stops early because of a rule without continue
        if (last.continue) expect(matching.filter((r) => before(last, r))).toEqual([]);
      }),
      { numRuns: 1000 },
    );
  });

  it('without continue anywhere, returns exactly the first matching rule', () => {
    fc.assert(
      fc.property(rulesArb, simpleEvent, (rules, ev) => {
        const plain = rules.map((r) => ({ ...r, continue: false }));
        const got = selectRules(plain, ev);
        const matching = plain.filter((r) => ruleMatches(r, ev));
        expect(got.length).toBe(Math.min(1, matching.length));
        if (got.length) expect(matching.every((r) => r === got[0] || before(got[0], r))).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
