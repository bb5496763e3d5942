// /rules/test — the dry-run tester: describe an event in a form (or paste its JSON), see which rules match,
// who is told on which channels, why a channel was skipped ("Ana has no push subscription", "Email is not
// configured"), and when each escalation step would fire. Nothing is sent.
import { useState } from 'preact/hooks';
import { api } from '../../api';
import { ProblemBox } from '../../components/Problem';
import { useAction, useTitle } from '../../hooks';
import { Link } from '../../router';
import { clock, until } from '../../time';
import { CATEGORIES, CHANNEL_LABELS, SEVERITIES, label } from '../../types';

interface TestResult {
  matched: Array<{ rule_id: number; name: string; preview: string }>;
  recipients: Array<{ user_id: number | null; name: string; channels: string[]; held?: Array<{ channel: string; reason: string; until: string | null }> }>;
  escalation: Array<{ level: number; at: string; roles: string[]; users: Array<number | string | { id?: number; name?: string }> }>;
  skipped_reasons?: string[];
}

interface MetaRow { key: string; value: string }
interface FormEvent { category: string; type: string; title: string; severity: string; meta: MetaRow[] }

const EXAMPLE_FORM: FormEvent = {
  category: 'finance', type: 'invoice_overdue', title: 'Invoice 1042 overdue 30 days', severity: 'error',
  meta: [{ key: 'amount', value: '12500' }, { key: 'customer', value: 'ACME' }],
};

/** The event the form describes: numbers and true/false stay typed. */
function formToEvent(f: FormEvent) {
  const metadata: Record<string, unknown> = {};
  for (const m of f.meta) {
    const k = m.key.trim();
    if (!k) continue;
    const v = m.value.trim();
    metadata[k] = /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v === 'true' || v === 'false' ? v === 'true' : v;
  }
  return { category: f.category.trim(), type: f.type.trim(), title: f.title.trim(), severity: f.severity, metadata };
}

const userName = (u: number | string | { id?: number; name?: string }) =>
  typeof u === 'object' && u ? (u.name ?? `user ${u.id}`) : typeof u === 'number' ? `user ${u}` : String(u);
const val = (e: Event) => (e.currentTarget as HTMLInputElement).value;

export default function RuleTesterPage() {
  useTitle('Test rules');
  const [mode, setMode] = useState<'form' | 'json'>('form');
  const [form, setForm] = useState<FormEvent>(EXAMPLE_FORM);
  const [text, setText] = useState(JSON.stringify(formToEvent(EXAMPLE_FORM), null, 2));
  const { busy, error, setError, run: act } = useAction();
  const [result, setResult] = useState<TestResult | null>(null);

  const switchTo = (m: 'form' | 'json') => {
    if (m === 'json' && mode === 'form') setText(JSON.stringify(formToEvent(form), null, 2));
    setMode(m);
  };
  const setMeta = (i: number, patch: Partial<MetaRow>) => setForm((f) => ({ ...f, meta: f.meta.map((m, j) => (j === i ? { ...m, ...patch } : m)) }));

  async function run(e: Event) {
    e.preventDefault();
    setError(null);
    setResult(null);
    let event: unknown;
    if (mode === 'form') event = formToEvent(form);
    else {
      try {
        event = JSON.parse(text);
      } catch (err) {
        setError(new Error(`The event is not valid JSON: ${(err as Error).message}`));
        return;
      }
    }
    await act(async () => setResult(await api.post<TestResult>('/v1/rules/test', { event })));
  }

  return (
    <section class="page" aria-labelledby="tester-title">
      <p class="back">
        <Link href="/rules">← Rules</Link>
      </p>
      <h1 id="tester-title">Test an event</h1>
      <p class="sub">A dry run: shows what would happen to this event. Nothing is sent.</p>
      <div class="toolbar" role="group" aria-label="Describe the event as">
        <button type="button" class={`btn small${mode === 'form' ? '' : ' ghost'}`} aria-pressed={mode === 'form'} onClick={() => switchTo('form')}>
          Form
        </button>
        <button type="button" class={`btn small${mode === 'json' ? '' : ' ghost'}`} aria-pressed={mode === 'json'} onClick={() => switchTo('json')}>
          JSON
        </button>
      </div>
      <form class="form" onSubmit={run}>
        {mode === 'form' ? (
          <>
            <div class="row">
              <div class="field">
                <label for="t-category">Category</label>
                <input id="t-category" list="t-categories" value={form.category} onInput={(e) => setForm((f) => ({ ...f, category: val(e) }))} />
                <datalist id="t-categories">
                  {CATEGORIES.map((c) => (
                    <option key={c} value={c} />
                  ))}
                </datalist>
              </div>
              <div class="field">
                <label for="t-type">Type</label>
                <input id="t-type" value={form.type} onInput={(e) => setForm((f) => ({ ...f, type: val(e) }))} />
              </div>
            </div>
            <div class="row">
              <div class="field">
                <label for="t-title">Title</label>
                <input id="t-title" value={form.title} onInput={(e) => setForm((f) => ({ ...f, title: val(e) }))} />
              </div>
              <div class="field">
                <label for="t-severity">Severity</label>
                <select id="t-severity" value={form.severity} onChange={(e) => setForm((f) => ({ ...f, severity: val(e) }))}>
                  {SEVERITIES.map((s) => (
                    <option key={s} value={s}>
                      {label(s)}
                    </option>
                  ))}
                </select>
              </div>
            </div>
            <fieldset class="group">
              <legend>Details (metadata)</legend>
              {form.meta.map((m, i) => (
                <div key={i} class="row" role="group" aria-label={`Detail ${i + 1}`}>
                  <div class="field">
                    <label for={`t-meta-${i}-key`}>Detail {i + 1} name</label>
                    <input id={`t-meta-${i}-key`} value={m.key} onInput={(e) => setMeta(i, { key: val(e) })} />
                  </div>
                  <div class="field">
                    <label for={`t-meta-${i}-value`}>Detail {i + 1} value</label>
                    <input id={`t-meta-${i}-value`} value={m.value} onInput={(e) => setMeta(i, { value: val(e) })} />
                  </div>
                </div>
              ))}
              <button type="button" class="btn small" onClick={() => setForm((f) => ({ ...f, meta: [...f.meta, { key: '', value: '' }] }))}>
                Add detail
              </button>
            </fieldset>
          </>
        ) : (
          <div class="field">
            <label for="t-event">Event JSON</label>
            <textarea id="t-event" class="mono" rows={10} spellcheck={false} value={text} onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)} />
          </div>
        )}
        <ProblemBox error={error} title="The test could not run" />
        <button type="submit" class="btn primary" disabled={busy} aria-busy={busy}>
          Run dry run
        </button>
      </form>
      {result && (
        <div class="results" role="region" aria-label="Dry-run result">
          <section class="panel" aria-labelledby="t-matched">
            <h2 id="t-matched">Matching rules</h2>
            {result.matched.length ? (
              <ol>
                {result.matched.map((m) => (
                  <li key={m.rule_id}>
                    <Link href={`/rules/${m.rule_id}`}>{m.name}</Link>
                    <p class="preview">{m.preview}</p>
                  </li>
                ))}
              </ol>
            ) : (
              <p>No rule matches: the event would be recorded as unrouted.</p>
            )}
          </section>
          <section class="panel" aria-labelledby="t-recipients">
            <h2 id="t-recipients">Who is told</h2>
            {result.recipients.length ? (
              <ul>
                {result.recipients.map((r) => (
                  <li key={`${r.user_id}-${r.name}`}>
                    <strong>{r.name}</strong> via {r.channels.map((c) => CHANNEL_LABELS[c] ?? c).join(', ') || 'no channel they can be reached on'}
                    {r.held?.map((h) => (
                      <span key={h.channel}>
                        {' '}
                        ({CHANNEL_LABELS[h.channel] ?? h.channel} waits for {h.reason}
                        {h.until ? ` until ${clock(h.until)}` : ''})
                      </span>
                    ))}
                  </li>
                ))}
              </ul>
            ) : (
              <p>Nobody.</p>
            )}
            {!!result.skipped_reasons?.length && (
              <>
                <h3>Skipped</h3>
                <ul class="reasons" aria-label="Why channels were skipped">
                  {result.skipped_reasons.map((r) => (
                    <li key={r}>{r}</li>
                  ))}
                </ul>
              </>
            )}
          </section>
          <section class="panel" aria-labelledby="t-escalation">
            <h2 id="t-escalation">Escalation</h2>
            {result.escalation.length ? (
              <ol>
                {result.escalation.map((s) => (
                  <li key={s.level}>
                    Level {s.level} at {clock(s.at)} (in {until(s.at)}):{' '}
                    {[...s.roles.map(label), ...s.users.map(userName)].join(', ') || 'nobody'}
                  </li>
                ))}
              </ol>
            ) : (
              <p>No escalation.</p>
            )}
          </section>
        </div>
      )}
    </section>
  );
}
