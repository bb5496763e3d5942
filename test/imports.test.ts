// Imports (issue 14, "Imports" and its Proof) on real Postgres through a real Herald: a CSV of events with 1% bad
// rows (over the 1 MiB JSON limit) streams in as multipart; its progress is visible while it runs; the bad rows
// come back in errors.csv with their reasons; a retry as they were fails them again, a retry with the corrected
// errors file imports them; nothing is ever imported twice; a dry run changes nothing. Users: JSON as a raw
// body, the same schema as the API, permissions, a corrected retry as a JSON array, and the export.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseCsv } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { ADMIN_KEY, startTestHerald, type TestHerald } from './harness';

let h: TestHerald;
beforeAll(async () => { h = await startTestHerald(); });
afterAll(async () => { await h?.stop(); });

const N = 5_000;
const BAD_EVERY = 100; // 1%: 50 bad rows
const pad = 'x'.repeat(200);

/** Row i of the events file; every 100th is bad in one of five ways (and `fix` says how to mend it). */
const goodRow = (i: number) => ['imp', 'row', `Imported ${i}`, 'warning', `${pad} ${i}`, `imp-${i}`, JSON.stringify({ n: i }), '2024-03-01T09:00:00Z'];
function eventRow(i: number): string[] {
  const good = goodRow(i);
  if (i % BAD_EVERY !== 0) return good;
  switch ((i / BAD_EVERY) % 5) {
    case 0: return [...good.slice(0, 3), 'loud', ...good.slice(4)]; // severity
    case 1: return [good[0], good[1], '', ...good.slice(3)]; // no title
    case 2: return [good[0], good[1], `Bad\u0000${i}`, ...good.slice(3)]; // NUL
    case 3: return [...good.slice(0, 7), '0000-01-01T00:00:00Z']; // year 0
    default: return [...good.slice(0, 6), '{not json', good[7]]; // metadata
  }
}
const HEADER = ['category', 'type', 'title', 'severity', 'body', 'dedup_key', 'metadata', 'occurred_at'];
const eventsCsv = () => stringify([HEADER, ...Array.from({ length: N }, (_, k) => eventRow(k + 1))]);

async function upload(path: string, file: string, name: string, type: string, fields: Record<string, string> = {}, key = ADMIN_KEY) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', new Blob([file], { type }), name);
  const res = await fetch(h.url + path, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: form });
  return { status: res.status, body: await res.json() as any };
}

/** Polls the import until it finishes, keeping every view seen on the way. */
async function finished(id: number, seen: any[] = []) {
  return h.eventually(async () => {
    const r = await h.api('GET', `/v1/imports/${id}`);
    expect(r.status).toBe(200);
    seen.push(r.body);
    return r.body.status === 'succeeded' || r.body.status === 'failed' ? r.body : null;
  }, 120_000);
}

const importedEvents = async () => (await h.sql<{ n: number; titles: number }[]>`
  select count(*)::int as n, count(distinct title)::int as titles from events where category = 'imp'`)[0];

describe('an events import with 1% bad rows', () => {
  let first: any;

  it('a dry run reports what would happen and changes nothing', async () => {
    const up = await upload('/v1/imports', eventsCsv(), 'events.csv', 'text/csv', { kind: 'events', dry_run: '1' });
    expect(up.status).toBe(202);
    const done = await finished(up.body.import_id);
    expect(done).toMatchObject({ status: 'succeeded', dry_run: true, kind: 'events', format: 'csv', total: N, ok: N - N / BAD_EVERY, failed: N / BAD_EVERY, skipped: 0 });
    expect((await importedEvents()).n).toBe(0);
    expect((await h.sql`select count(*)::int as n from import_row_keys`)[0].n).toBe(0);
  }, 120_000);

  it('imports the good rows in batches with visible progress and keeps the bad ones with their reasons', async () => {
    const file = eventsCsv();
    expect(file.length).toBeGreaterThan(1024 * 1024); // over the JSON body limit, which imports do not have
    const up = await upload('/v1/imports', file, 'events.csv', 'text/csv', { kind: 'events', dry_run: '0' });
    expect(up.status).toBe(202);
    const seen: any[] = [];
    first = await finished(up.body.import_id, seen);
    expect(first).toMatchObject({ status: 'succeeded', total: N, done: N, ok: N - 50, failed: 50, skipped: 0, progress: 1, filename: 'events.csv' });
    // Progress was visible while it ran: a running import with some rows done and more to come.
    expect(seen.some((v) => v.status === 'running' && v.done > 0 && v.done < N && v.progress > 0 && v.progress < 1 && v.total === null)).toBe(true);
    const got = await importedEvents();
    expect(got).toEqual({ n: N - 50, titles: N - 50 });
    // Imported events are routed like any other (one event__route job per batch).
    await h.eventually(async () => (await h.sql`select count(*)::int as n from events where category = 'imp' and status = 'accepted'`)[0].n === 0, 60_000);

    const history = await h.api('GET', '/v1/imports');
    expect(history.body.items.map((i: any) => i.id).slice(0, 2)).toEqual([first.id, first.id - 1]);
  }, 180_000);

  let errorsFile: string[][];
  it('errors.csv has every bad row as it came, with its row number and reason', async () => {
    const res = await fetch(`${h.url}/v1/imports/${first.id}/errors.csv`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    errorsFile = parseCsv(await res.text()) as string[][];
    expect(errorsFile[0]).toEqual([...HEADER, 'row', 'error']);
    const rows = errorsFile.slice(1);
    expect(rows.map((r) => Number(r[8]))).toEqual(Array.from({ length: 50 }, (_, k) => (k + 1) * BAD_EVERY));
    for (const r of rows) expect(r.slice(0, 8)).toEqual(eventRow(Number(r[8])));
    const reason = (i: number) => rows.find((r) => Number(r[8]) === i)![9];
    expect(reason(500)).toMatch(/^severity: /);
    expect(reason(100)).toMatch(/^title: /);
    expect(reason(200)).toMatch(/^title: must not contain a NUL/);
    expect(reason(300)).toMatch(/^occurred_at: /);
    expect(reason(400)).toBe('metadata: not valid JSON');
  });

  it('a retry as they were fails them again (nothing changed) and imports nothing', async () => {
    const r = await h.api('POST', `/v1/imports/${first.id}/retry`);
    expect(r.status).toBe(202);
    const done = await finished(r.body.import_id);
    expect(done).toMatchObject({ status: 'succeeded', retry_of: first.id, format: 'rows', total: 50, ok: 0, failed: 50 });
    expect((await importedEvents()).n).toBe(N - 50);
  }, 60_000);

  it('the corrected errors file imports them; nothing is imported twice, whatever is sent again', async () => {
    const fixed = [errorsFile[0], ...errorsFile.slice(1).map((r) => {
      return [...goodRow(Number(r[8])), r[8], r[9]];
    })];
    const up = await upload(`/v1/imports/${first.id}/retry`, stringify(fixed), 'errors-fixed.csv', 'text/csv');
    expect(up.status).toBe(202);
    const done = await finished(up.body.import_id);
    expect(done).toMatchObject({ status: 'succeeded', retry_of: first.id, total: 50, ok: 50, failed: 0, skipped: 0 });
    expect(await importedEvents()).toEqual({ n: N, titles: N });

    // The same corrected file again, and the whole original file again: every good row is skipped.
    const again = await finished((await upload(`/v1/imports/${first.id}/retry`, stringify(fixed), 'errors-fixed.csv', 'text/csv')).body.import_id);
    expect(again).toMatchObject({ ok: 0, failed: 0, skipped: 50 });
    const whole = await finished((await upload('/v1/imports', eventsCsv(), 'events.csv', 'text/csv', { kind: 'events' })).body.import_id);
    expect(whole).toMatchObject({ total: N, ok: 0, failed: 50, skipped: N - 50 });
    expect(await importedEvents()).toEqual({ n: N, titles: N });
  }, 180_000);
});

describe('a users import', () => {
  it('validates with the API schema, refuses taken emails, retries corrected rows, exports; permissions by kind', async () => {
    expect((await h.api('POST', '/v1/users', { name: 'Already here', email: 'taken@example.com' })).status).toBe(201);
    const people = [
      ...Array.from({ length: 17 }, (_, i) => ({ name: `Person ${i}`, email: `p${i}@example.com`, roles: ['workshop'], phone: `+1 415 555 ${String(1000 + i)}` })),
      { name: 'Bad email', email: 'not-an-email' },
      { name: 'Unknown role', email: 'role@example.com', roles: ['nope'] },
      { name: 'Taken', email: 'TAKEN@example.com' },
    ];
    const res = await h.api('POST', '/v1/imports?kind=users', undefined, { raw: JSON.stringify(people), headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(202);
    const done = await finished(res.body.import_id);
    expect(done).toMatchObject({ status: 'succeeded', format: 'json', total: 20, ok: 17, failed: 3 });
    const users = await h.sql<{ email: string; phone: string; roles: string[] }[]>`select email, phone, roles from users where email like 'p%@example.com' order by id`;
    expect(users).toHaveLength(17);
    expect(users[0]).toEqual({ email: 'p0@example.com', phone: '+14155551000', roles: ['workshop'] });

    const errs = parseCsv(await (await fetch(`${h.url}/v1/imports/${done.id}/errors.csv`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text(), { columns: true }) as Record<string, string>[];
    expect(errs.map((e) => [e.row, e.email, e.error.split(':')[0]])).toEqual([['18', 'not-an-email', 'email'], ['19', 'role@example.com', 'roles'], ['20', 'TAKEN@example.com', 'email']]);

    // Corrected as a JSON array sent to retry.
    const corrected = [{ name: 'Bad email', email: 'fixed@example.com' }, { name: 'Unknown role', email: 'role@example.com', roles: ['workshop'] }];
    const retry = await h.api('POST', `/v1/imports/${done.id}/retry`, corrected);
    expect(retry.status).toBe(202);
    expect(await finished(retry.body.import_id)).toMatchObject({ ok: 2, failed: 0, retry_of: done.id });

    // Export: every live user, contact details included, in columns the import reads.
    const csv = await fetch(`${h.url}/v1/users/export?format=csv`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(csv.headers.get('content-disposition')).toContain('users.csv');
    const exported = parseCsv(await csv.text(), { columns: true }) as Record<string, string>[];
    expect(exported.find((u) => u.email === 'p3@example.com')).toMatchObject({ name: 'Person 3', roles: 'workshop', phone: '+14155551003' });
    expect(exported.map((u) => u.email)).toContain('fixed@example.com');
    const json = await h.api('GET', '/v1/users/export?format=json');
    expect(json.body.length).toBe(exported.length);
    expect((await h.api('GET', '/v1/users/export?format=xml')).status).toBe(400);

    // Permissions: the kind's own permission, named in the 403.
    const key = (await h.api('POST', '/v1/api-keys', { name: 'events only', scopes: ['events:write'] })).body.key;
    const denied = await h.api('POST', '/v1/imports?kind=users', undefined, { key, raw: '[]', headers: { 'content-type': 'application/json' } });
    expect(denied.status).toBe(403);
    expect(denied.body.detail).toContain('users:write');
    expect((await h.api('GET', `/v1/imports/${done.id}`, undefined, { key })).status).toBe(403);
    expect((await h.api('GET', '/v1/users/export', undefined, { key })).status).toBe(403);
    const allowed = await h.api('POST', '/v1/imports?kind=events', undefined, { key, raw: 'category,type,title\nimp2,x,One\n', headers: { 'content-type': 'text/csv' } });
    expect(allowed.status).toBe(202);
    expect(await finished(allowed.body.import_id)).toMatchObject({ ok: 1 });
    const mine = await h.api('GET', '/v1/imports', undefined, { key });
    expect(mine.body.items.every((i: any) => i.kind === 'events')).toBe(true);
  }, 120_000);

  it('refuses what is not an import with a 4xx, and a malformed file fails its import saying why', async () => {
    expect((await h.api('POST', '/v1/imports?kind=robots', undefined, { raw: 'a\n1', headers: { 'content-type': 'text/csv' } })).status).toBe(400);
    expect((await h.api('POST', '/v1/imports?kind=users&dry_run=maybe', undefined, { raw: 'a\n1', headers: { 'content-type': 'text/csv' } })).status).toBe(400);
    expect((await h.api('POST', '/v1/imports?kind=users', undefined, { raw: '', headers: { 'content-type': 'text/csv' } })).status).toBe(400);
    expect((await upload('/v1/imports', 'x', 'f.csv', 'text/csv', {})).status).toBe(400); // no kind
    const notArray = await h.api('POST', '/v1/imports?kind=users', undefined, { raw: '{"name":"x"}', headers: { 'content-type': 'application/json' } });
    expect(await finished(notArray.body.import_id)).toMatchObject({ status: 'failed', error: expect.stringContaining('array') });
    const broken = await h.api('POST', '/v1/imports?kind=users', undefined, { raw: '[{"name": "a", "email": "a@example.com"}, {"name": ', headers: { 'content-type': 'application/json' } });
    expect(await finished(broken.body.import_id)).toMatchObject({ status: 'failed' });
    expect((await h.api('GET', '/v1/imports/999999')).status).toBe(404);
    expect((await h.api('POST', '/v1/imports/999999/retry')).status).toBe(404);
  }, 60_000);

  it('hostile input: NUL and lone surrogates in fields, file names and cells, deep nesting, huge numbers — 4xx or failed rows, never a 500', async () => {
    const raw = (path: string, body: string, type = 'application/json') => h.api('POST', path, undefined, { raw: body, headers: { 'content-type': type } });
    for (const q of ['kind=users%00', 'kind=%ED%A0%80', 'kind=users&dry_run=%00', 'kind=users&filename=a%00.csv']) {
      const r = await raw(`/v1/imports?${q}`, '[]');
      expect(r.status, q).toBe(400);
    }
    const nul = await upload('/v1/imports', 'name,email\nA,a@example.com\n', 'a\u0000.csv', 'text/csv', { kind: 'users' });
    expect(nul.status).toBeLessThan(500);
    const rows = `[{"name":"Nul\\u0000","email":"n@example.com"},{"name":"Lone \\ud800","email":"l@example.com"},` +
      `{"name":"Deep","email":"d@example.com","roles":${'['.repeat(5000)}${']'.repeat(5000)}},{"name":1e400,"email":"x@example.com"},` +
      `{"name":"Num","email":"m@example.com","phone":123456789012345678901234567890},{"name":{"length":${'['.repeat(20000)}1${']'.repeat(20000)}},"email":"o@example.com"}]`;
    const r = await raw('/v1/imports?kind=users', rows);
    expect(r.status).toBe(202);
    const done = await finished(r.body.import_id);
    // Nothing of it goes in: each row fails with its reason, or the streaming parser refuses the file, saying why.
    expect(done.ok).toBe(0);
    if (done.status === 'failed') expect(done.error).toMatch(/could not be read/);
    else {
      expect(done).toMatchObject({ status: 'succeeded', total: 6, failed: 6 });
      const errs = await fetch(`${h.url}/v1/imports/${done.id}/errors.csv`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      expect(errs.status).toBe(200);
      expect((parseCsv(await errs.text(), { columns: true }) as unknown[]).length).toBe(6);
    }
    console.log(`hostile users file: ${done.status} ${done.error ?? ''}`);
    const csv = await raw('/v1/imports?kind=events', 'category,type,title\n"fuzz\u0000",x,"\ud800"\n"unterminated,x', 'text/csv');
    expect(await finished(csv.body.import_id)).toMatchObject({ status: expect.stringMatching(/succeeded|failed/) });
  }, 60_000);
});
