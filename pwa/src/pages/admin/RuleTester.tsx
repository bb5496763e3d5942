// /rules/test — the dry-run tester: paste an event, see which rules match, who is told on which
// channels, and when each escalation step would fire. Nothing is sent.
import { useState } from 'preact/hooks';
import { api } from '../../api';
import { ProblemBox } from '../../components/Problem';
import { useAction, useTitle } from '../../hooks';
import { Link } from '../../router';
import { clock, until } from '../../time';
import { CHANNEL_LABELS, label } from '../../types';

interface TestResult {
  matched: Array<{ rule_id: number; name: string; preview: string }>;
  recipients: Array<{ user_id: number; name: string; channels: string[] }>;
  escalation: Array<{ level: number; at: string; roles: string[]; users: Array<number | string | { id?: number; name?: string }> }>;
}

const EXAMPLE = JSON.stringify(
  {
    category: 'finance',
    type: 'invoice_overdue',
    title: 'Invoice 1042 overdue 30 days',
    severity: 'error',
    metadata: { amount: 12500, customer: 'ACME' },
  },
  null,
  2,
);

const userName = (u: number | string | { id?: number; name?: string }) =>
  typeof u === 'object' && u ? (u.name ?? `user ${u.id}`) : typeof u === 'number' ? `user ${u}` : String(u);

export default function RuleTesterPage() {
  useTitle('Test rules');
  const [text, setText] = useState(EXAMPLE);
  const { busy, error, setError, run: act } = useAction();
  const [result, setResult] = useState<TestResult | null>(null);

  async function run(e: Event) {
    e.preventDefault();
    setError(null);
    setResult(null);
    let event: unknown;
    try {
      event = JSON.parse(text);
    } catch (err) {
      setError(new Error(`The event is not valid JSON: ${(err as Error).message}`));
      return;
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
      <form class="form" onSubmit={run}>
        <div class="field">
          <label for="t-event">Event JSON</label>
          <textarea id="t-event" class="mono" rows={10} spellcheck={false} value={text} onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)} />
        </div>
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
                  <li key={r.user_id}>
                    <strong>{r.name}</strong> via {r.channels.map((c) => CHANNEL_LABELS[c] ?? c).join(', ') || 'no channel they can be reached on'}
                  </li>
                ))}
              </ul>
            ) : (
              <p>Nobody.</p>
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
