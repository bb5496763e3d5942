// /rules/import — import rules from a file or pasted text (JSON or YAML; all or nothing on the server),
// and export links.
import { useState } from 'preact/hooks';
import { api } from '../../api';
import { ProblemBox } from '../../components/Problem';
import { useTitle } from '../../hooks';
import { Link } from '../../router';

function contentType(text: string, fileName: string | null): string {
  if (fileName && /\.ya?ml$/i.test(fileName)) return 'application/yaml';
  if (fileName && /\.json$/i.test(fileName)) return 'application/json';
  return /^\s*[[{]/.test(text) ? 'application/json' : 'application/yaml';
}

function summary(r: unknown): string {
  if (r && typeof r === 'object') {
    const o = r as Record<string, unknown>;
    for (const k of ['imported', 'items', 'rules', 'created']) {
      const v = o[k];
      const n = Array.isArray(v) ? v.length : typeof v === 'number' ? v : null;
      if (n !== null) return `Imported ${n} rule${n === 1 ? '' : 's'}.`;
    }
  }
  return 'Rules imported.';
}

export default function RulesImportPage() {
  useTitle('Import rules');
  const [text, setText] = useState('');
  const [fileName, setFileName] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);

  async function pick(e: Event) {
    const f = (e.currentTarget as HTMLInputElement).files?.[0];
    if (!f) return;
    setFileName(f.name);
    setText(await f.text());
  }

  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    setDone(null);
    if (!text.trim()) {
      setError(new Error('Choose a file or paste the rules first.'));
      return;
    }
    setBusy(true);
    try {
      const r = await api.post<unknown>('/v1/rules/import', undefined, { raw: { body: text, contentType: contentType(text, fileName) } });
      setDone(summary(r));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="page" aria-labelledby="import-title">
      <p class="back">
        <Link href="/rules">← Rules</Link>
      </p>
      <h1 id="import-title">Import rules</h1>
      <p class="sub">JSON or YAML, as exported. The import is all or nothing: one invalid rule and nothing changes.</p>
      <form class="form" onSubmit={submit}>
        <div class="field">
          <label for="i-file">Rules file</label>
          <input id="i-file" type="file" accept=".json,.yaml,.yml,application/json,application/yaml,text/yaml" onChange={pick} />
        </div>
        <div class="field">
          <label for="i-text">Rules (JSON or YAML)</label>
          <textarea
            id="i-text"
            class="mono"
            rows={12}
            spellcheck={false}
            value={text}
            onInput={(e) => {
              setText((e.currentTarget as HTMLTextAreaElement).value);
              setFileName(null);
            }}
          />
        </div>
        <ProblemBox error={error} title="Nothing was imported" />
        {done && <p role="status">{done} <Link href="/rules">See the rules</Link></p>}
        <button type="submit" class="btn primary" disabled={busy} aria-busy={busy}>
          Import rules
        </button>
      </form>
      <section class="panel" aria-labelledby="export-title">
        <h2 id="export-title">Export</h2>
        <p class="toolbar">
          <a href="/v1/rules/export?format=json" class="btn small" download="herald-rules.json">
            Export JSON
          </a>
          <a href="/v1/rules/export?format=yaml" class="btn small" download="herald-rules.yaml">
            Export YAML
          </a>
        </p>
      </section>
    </section>
  );
}
