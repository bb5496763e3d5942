// Rules import over HTTP (issue 16, "Must fix first" 1: an import of one rule used to delete every other rule).
// `POST /v1/rules/import?mode=merge|replace&dry_run=1`: merge by name by default, replace only when asked,
// dry runs change nothing, a bad document changes nothing; JSON and YAML bodies.
import YAML from 'yaml';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from './harness';

let h: TestHerald;
beforeAll(async () => { h = await startTestHerald(); });
afterAll(async () => { await h?.stop(); });

interface StoredRule { id: number; name: string; position: number; priority: string; enabled: boolean; updated_at: string; preview: string; match: Record<string, unknown> }

const base = (name: string, category: string, position: number) => ({
  name, position, match: { category }, targets: { roles: ['admin'] }, channels: ['in_app'],
});
const FIVE = [
  base('Overdue invoices', 'finance', 10),
  base('Machine down', 'production', 20),
  base('Big orders', 'sales', 30),
  base('Stock low', 'warehouse', 40),
  base('Security', 'security', 50),
];

/** Every rule of the org as stored, full rows (ids, timestamps and all), in list order. */
const dbRules = async () => h.sql`select * from rules order by position, id`;
const listed = async (): Promise<StoredRule[]> => (await h.api('GET', '/v1/rules')).body.items;
const importDoc = (body: string, contentType: string, query = '') =>
  h.api('POST', `/v1/rules/import${query}`, undefined, { raw: body, headers: { 'content-type': contentType } });

function expectProblem(r: { status: number; body: any; headers: Headers }, status: number) {
  expect(r.status).toBe(status);
  expect(r.headers.get('content-type')).toContain('application/problem+json');
  expect(r.body).toMatchObject({ status, title: expect.any(String), detail: expect.any(String) });
}

// Each test starts from the same five rules.
beforeEach(async () => {
  await h.sql`delete from rules`;
  for (const r of FIVE) expect((await h.api('POST', '/v1/rules', r)).status).toBe(201);
});

// One existing rule changed (priority and severity) and one new rule, as a person would write it.
const ONE_CHANGED_ONE_NEW = `version: 1
rules:
  - name: Machine down
    position: 20
    match:
      category: production
      min_severity: error
    targets:
      roles: [admin]
    channels: [in_app]
    priority: critical
  - name: Payroll failed
    position: 60
    match:
      category: hr
      type: payroll_failed
    targets:
      roles: [admin]
`;

describe('merge (the default)', () => {
  it('keeps every rule: 5 rules + a YAML with one changed and one new rule → 6 rules, the changed one updated', async () => {
    const before = await listed();
    const r = await importDoc(ONE_CHANGED_ONE_NEW, 'application/yaml');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ mode: 'merge', dry_run: false, added: 1, changed: 1, unchanged: 0, removed: 0, imported: 2 });
    const machine = before.find((x) => x.name === 'Machine down')!;
    expect(r.body.items).toEqual([
      { outcome: 'changed', name: 'Machine down', id: machine.id, fields: ['match.min_severity', 'priority'],
        preview: 'All Production alerts (severity ≥ error) go to Admin via In-app.', previous_preview: 'All Production alerts go to Admin via In-app.' },
      { outcome: 'added', name: 'Payroll failed', id: expect.any(Number), preview: 'Hr/payroll_failed alerts go to Admin via In-app.' },
    ]);

    const after = await listed();
    expect(after).toHaveLength(6);
    expect(after.map((x) => x.name)).toEqual(['Overdue invoices', 'Machine down', 'Big orders', 'Stock low', 'Security', 'Payroll failed']);
    // The four rules not in the file are exactly as they were (same ids, not even touched).
    for (const old of before.filter((x) => x.name !== 'Machine down')) expect(after.find((x) => x.id === old.id)).toEqual(old);
    // The changed rule kept its id and took the file's values; the new one is the id the answer gave.
    const updated = after.find((x) => x.id === machine.id)!;
    expect(updated).toMatchObject({ priority: 'critical', match: { category: 'production', min_severity: 'error' } });
    expect(updated.preview).toBe('All Production alerts (severity ≥ error) go to Admin via In-app.');
    expect(after.find((x) => x.name === 'Payroll failed')!.id).toBe(r.body.items[1].id);

    // Importing the same file again changes nothing.
    const again = await importDoc(ONE_CHANGED_ONE_NEW, 'application/yaml');
    expect(again.body).toMatchObject({ added: 0, changed: 0, unchanged: 2, removed: 0 });
    expect(await listed()).toEqual(after);
  });

  it('imports the export of the same organisation as all unchanged, in JSON and YAML', async () => {
    const rows = await dbRules();
    for (const format of ['json', 'yaml'] as const) {
      const text = await (await fetch(`${h.url}/v1/rules/export?format=${format}`, { headers: { authorization: `Bearer ${(await import('./harness')).ADMIN_KEY}` } })).text();
      const r = await importDoc(text, format === 'json' ? 'application/json' : 'application/yaml');
      expect(r.body).toMatchObject({ added: 0, changed: 0, unchanged: 5, removed: 0 });
      expect(r.body.items.map((i: { outcome: string }) => i.outcome)).toEqual(Array(5).fill('unchanged'));
    }
    expect(await dbRules()).toEqual(rows);
  });

  it('takes a JSON body (and an explicit mode=merge) the same way', async () => {
    const doc = YAML.parse(ONE_CHANGED_ONE_NEW);
    const r = await importDoc(JSON.stringify(doc), 'application/json', '?mode=merge');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ mode: 'merge', added: 1, changed: 1, unchanged: 0, removed: 0 });
    expect(await listed()).toHaveLength(6);
  });
});

describe('replace', () => {
  it('removes the rules the file does not name, and says which', async () => {
    const before = await listed();
    const r = await importDoc(ONE_CHANGED_ONE_NEW, 'application/yaml', '?mode=replace');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ mode: 'replace', added: 1, changed: 1, unchanged: 0, removed: 4 });
    const removed = r.body.items.filter((i: { outcome: string }) => i.outcome === 'removed');
    expect(removed.map((i: { name: string; id: number }) => [i.name, i.id])).toEqual(
      before.filter((x) => x.name !== 'Machine down').map((x) => [x.name, x.id]));
    expect(removed[0].preview).toBe('All Finance alerts go to Admin via In-app.');
    const after = await listed();
    expect(after.map((x) => x.name)).toEqual(['Machine down', 'Payroll failed']);
    expect(after[0].id).toBe(before.find((x) => x.name === 'Machine down')!.id);
  });

  it('with an empty document removes every rule, as asked', async () => {
    const r = await importDoc('{"version":1,"rules":[]}', 'application/json', '?mode=replace');
    expect(r.body).toMatchObject({ added: 0, changed: 0, unchanged: 0, removed: 5 });
    expect(await listed()).toEqual([]);
  });
});

describe('dry run', () => {
  it('changes nothing and reports what the real import then does', async () => {
    const rows = await dbRules();
    for (const mode of ['merge', 'replace'] as const) {
      const dry = await importDoc(ONE_CHANGED_ONE_NEW, 'application/yaml', `?mode=${mode}&dry_run=1`);
      expect(dry.status).toBe(200);
      expect(dry.body).toMatchObject({ mode, dry_run: true, added: 1, changed: 1, unchanged: 0, removed: mode === 'replace' ? 4 : 0 });
      expect(dry.body.items.find((i: { outcome: string }) => i.outcome === 'added').id).toBeNull();
      expect(await dbRules()).toEqual(rows); // not a row written, not even updated_at
    }
    const dry = await importDoc(ONE_CHANGED_ONE_NEW, 'application/yaml', '?mode=replace&dry_run=true');
    const real = await importDoc(ONE_CHANGED_ONE_NEW, 'application/yaml', '?mode=replace');
    const pick = (b: any) => ({ counts: [b.added, b.changed, b.unchanged, b.removed], items: b.items.map((i: any) => ({ ...i, id: i.outcome === 'added' ? 'new' : i.id })) });
    expect(pick(real.body)).toEqual(pick(dry.body));
  });
});

describe('nothing changes when the request is refused', () => {
  it('an invalid rule, a broken document, duplicate names or a bad mode: 400, every rule as it was', async () => {
    const rows = await dbRules();
    const doc = YAML.parse(ONE_CHANGED_ONE_NEW);
    const invalidRule = { ...doc, rules: [...doc.rules, { name: 'Bad', match: { category: 'Not A Slug' } }] };
    const bad = await importDoc(JSON.stringify(invalidRule), 'application/json', '?mode=replace');
    expectProblem(bad, 400);
    expect(bad.body.errors).toEqual([{ path: 'rules.2.match.category', message: expect.any(String) }]);

    expectProblem(await importDoc(`${ONE_CHANGED_ONE_NEW}  - name: [unclosed\n`, 'application/yaml'), 400);
    expectProblem(await importDoc('{"rules": [', 'application/json', '?mode=replace'), 400);

    const dupes = { rules: [doc.rules[0], doc.rules[1], doc.rules[1], doc.rules[0]] };
    const dup = await importDoc(JSON.stringify(dupes), 'application/json', '?mode=replace');
    expectProblem(dup, 400);
    expect(dup.body.detail).toContain('"Payroll failed" (rules 1, 2)');
    expect(dup.body.detail).toContain('"Machine down" (rules 0, 3)');
    expect(dup.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['rules.2.name', 'rules.3.name']);

    const mode = await importDoc(ONE_CHANGED_ONE_NEW, 'application/yaml', '?mode=overwrite');
    expectProblem(mode, 400);
    expect(mode.body.errors[0].path).toBe('mode');
    expectProblem(await importDoc(ONE_CHANGED_ONE_NEW, 'application/yaml', '?dry_run=maybe'), 400);

    expect(await dbRules()).toEqual(rows);
  });

  it('a key without admin is a 403 and changes nothing', async () => {
    const rows = await dbRules();
    const reader = await h.api('POST', '/v1/api-keys', { name: 'Reader', scopes: ['alerts:read'] });
    const r = await h.api('POST', '/v1/rules/import?mode=replace', undefined, { key: reader.body.key, raw: '{"rules":[]}' });
    expectProblem(r, 403);
    expect(await dbRules()).toEqual(rows);
  });

  it('text Postgres cannot store (a NUL character) is a 400 naming the field, not a failed write', async () => {
    const rows = await dbRules();
    const doc = YAML.parse(ONE_CHANGED_ONE_NEW);
    const r = await importDoc(JSON.stringify({ rules: [...doc.rules, { name: 'Nul \u0000 name', match: { category: 'x', conditions: [{ field: 'metadata.a', op: 'eq', value: { 'k\u0000': 'v' } }] } }] }), 'application/json', '?mode=replace');
    expectProblem(r, 400);
    const paths = r.body.errors.map((e: { path: string }) => e.path);
    expect(paths[0]).toBe('rules.2.name');
    // The second names the condition's value, down to the key that carries the NUL.
    expect(paths[1]).toMatch(/^rules\.2\.match\.conditions\.0\.value/);
    expect(paths).toHaveLength(2);
    expect(await dbRules()).toEqual(rows);
  });

  it('a database failure half way rolls the whole import back', async () => {
    const rows = await dbRules();
    // Fault injection in the real database: the third write of the import (after an update and an insert) fails.
    await h.sql.unsafe(`create function refuse_boom() returns trigger language plpgsql as $$
      begin if new.name = 'Boom' then raise exception 'injected failure'; end if; return new; end $$;
      create trigger refuse_boom before insert on rules for each row execute function refuse_boom();`);
    try {
      const doc = YAML.parse(ONE_CHANGED_ONE_NEW);
      const r = await importDoc(JSON.stringify({ rules: [...doc.rules, { name: 'Boom', match: { category: 'x' } }] }), 'application/json', '?mode=replace');
      expectProblem(r, 500);
      expect(await dbRules()).toEqual(rows);
    } finally {
      await h.sql.unsafe('drop trigger refuse_boom on rules; drop function refuse_boom();');
    }
  });
});
