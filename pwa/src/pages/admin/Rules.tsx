// /rules — every rule with its preview sentence and an enable switch; links to the editor, the dry-run
// tester, import, and export.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../../api';
import { ProblemBox } from '../../components/Problem';
import { useTitle } from '../../hooks';
import { Link } from '../../router';
import { label } from '../../types';
import type { Rule } from './shared';

export default function RulesPage() {
  useTitle('Rules');
  const [rules, setRules] = useState<Rule[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<number | null>(null);

  useEffect(() => {
    api.get<{ items: Rule[] }>('/v1/rules').then((r) => setRules(r.items), setError);
  }, []);

  const patchRule = (id: number, change: Partial<Rule>) => setRules((rs) => rs && rs.map((r) => (r.id === id ? { ...r, ...change } : r)));

  async function setEnabled(rule: Rule, enabled: boolean) {
    setBusy(rule.id);
    setError(null);
    patchRule(rule.id, { enabled });
    try {
      patchRule(rule.id, await api.patch<Rule>(`/v1/rules/${rule.id}`, { enabled }));
    } catch (e) {
      patchRule(rule.id, { enabled: !enabled });
      setError(e);
    } finally {
      setBusy(null);
    }
  }

  return (
    <section class="page" aria-labelledby="rules-title">
      <div class="page-head">
        <h1 id="rules-title">Rules</h1>
        <Link href="/rules/new" class="btn primary small">
          New rule
        </Link>
      </div>
      <p class="toolbar">
        <Link href="/rules/test" class="btn small">
          Test an event
        </Link>
        <Link href="/rules/import" class="btn small">
          Import
        </Link>
        <a href="/v1/rules/export?format=json" class="btn small" download="herald-rules.json">
          Export JSON
        </a>
        <a href="/v1/rules/export?format=yaml" class="btn small" download="herald-rules.yaml">
          Export YAML
        </a>
      </p>
      <ProblemBox error={error} title="Rules could not be loaded or saved" />
      {!rules && !error && (
        <p class="loading" role="status">
          Loading…
        </p>
      )}
      {rules && rules.length === 0 && <p>No rules yet. Events without a matching rule are recorded as unrouted.</p>}
      {rules && rules.length > 0 && (
        <ol class="rules">
          {rules.map((r) => (
            <li key={r.id} class={`rule${r.enabled ? '' : ' disabled'}`}>
              <div class="rule-head">
                <h2 class="rule-name">
                  <Link href={`/rules/${r.id}`}>{r.name}</Link>
                </h2>
                <label class="switch">
                  <input
                    type="checkbox"
                    role="switch"
                    checked={r.enabled}
                    disabled={busy === r.id}
                    aria-label={`Enabled: ${r.name}`}
                    onChange={(e) => setEnabled(r, (e.currentTarget as HTMLInputElement).checked)}
                  />
                  <span aria-hidden="true">{r.enabled ? 'On' : 'Off'}</span>
                </label>
              </div>
              <p class="preview">{r.preview}</p>
              <p class="meta">
                #{r.position} · {label(r.priority)} priority{r.continue ? ' · continues to later rules' : ''}
              </p>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
