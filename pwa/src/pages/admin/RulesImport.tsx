// /rules/import — import rules from a file or pasted text (JSON or YAML, as exported), and export links.
// The page first asks the server for a dry run and shows what the file would change (added, changed with
// the fields, unchanged, and the rules not in the file), then Apply imports. Merge (add and update by
// name, keep the rest) is the default; "Replace all rules" also deletes the rules not in the file, and only
// after a confirmation naming how many and which. The server applies all or nothing.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../../api';
import { ProblemBox } from '../../components/Problem';
import { useTitle } from '../../hooks';
import { Link } from '../../router';

type Mode = 'merge' | 'replace';
type Outcome = 'added' | 'changed' | 'unchanged' | 'removed';
interface ImportItem {
  outcome: Outcome;
  name: string;
  id: number | null;
  fields?: string[];
  preview: string;
  previous_preview?: string;
}
interface ImportResult {
  mode: Mode;
  dry_run: boolean;
  added: number;
  changed: number;
  unchanged: number;
  removed: number;
  items: ImportItem[];
}

function contentType(text: string, fileName: string | null): string {
  if (fileName && /\.ya?ml$/i.test(fileName)) return 'application/yaml';
  if (fileName && /\.json$/i.test(fileName)) return 'application/json';
  return /^\s*[[{]/.test(text) ? 'application/json' : 'application/yaml';
}

const rules = (n: number) => `${n} rule${n === 1 ? '' : 's'}`;

/** "A", "A and B", "A, B and C". */
function names(items: ImportItem[]): string {
  const n = items.map((i) => i.name);
  return n.length <= 1 ? n.join('') : `${n.slice(0, -1).join(', ')} and ${n[n.length - 1]}`;
}

/** What an applied import did, in words: "Added 1 rule, updated 2, 5 unchanged." */
export function resultWords(r: Pick<ImportResult, 'added' | 'changed' | 'unchanged' | 'removed'>): string {
  if (r.added + r.changed + r.removed === 0) return r.unchanged ? `Nothing to change: the ${rules(r.unchanged)} in the file are already as they are.` : 'Nothing to change.';
  const parts = [`Added ${rules(r.added)}`, `updated ${r.changed}`, `${r.unchanged} unchanged`];
  if (r.removed) parts.push(`deleted ${r.removed}`);
  return `${parts.join(', ')}.`;
}

/** Field paths as people say them: `match.min_severity` → "minimum severity". */
const FIELD_WORDS: Record<string, string> = {
  enabled: 'on/off', position: 'position', continue: 'continue to later rules', channels: 'channels', priority: 'priority',
  slack_channel: 'Slack channel', discord_channel: 'Discord channel', match: 'what it matches', 'match.category': 'category',
  'match.type': 'type', 'match.min_severity': 'minimum severity', 'match.conditions': 'conditions', targets: 'who it reaches',
  'targets.roles': 'roles', 'targets.users': 'people', escalation: 'escalation', 'escalation.steps': 'escalation steps',
  'escalation.repeat': 'escalation repeats', sop: 'SOP', 'sop.title': 'SOP title', 'sop.steps': 'SOP steps', 'sop.url': 'SOP link',
};
const fieldWords = (fields: string[] = []) => fields.map((f) => FIELD_WORDS[f] ?? f).join(', ');

function Group({ id, title, items }: { id: string; title: string; items: ImportItem[] }) {
  if (!items.length) return null;
  return (
    <section class="import-group" aria-labelledby={id}>
      <h3 id={id}>
        {title} ({items.length})
      </h3>
      <ul class="import-list">
        {items.map((i) => (
          <li key={`${i.outcome}-${i.id ?? i.name}`}>
            <strong>{i.name}</strong>
            {i.outcome === 'changed' && <span class="meta"> — changes {fieldWords(i.fields)}</span>}
            <p class="preview">{i.previous_preview ? `Now: ${i.preview}` : i.preview}</p>
            {i.previous_preview && <p class="meta">Was: {i.previous_preview}</p>}
          </li>
        ))}
      </ul>
    </section>
  );
}

export default function RulesImportPage() {
  useTitle('Import rules');
  const [text, setText] = useState('');
  const [fileName, setFileName] = useState<string | null>(null);
  const [mode, setMode] = useState<Mode>('merge');
  /** The dry run (in replace mode, so it also lists the rules not in the file) for `plan.text`. */
  const [plan, setPlan] = useState<{ text: string; result: ImportResult } | null>(null);
  const [checking, setChecking] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const seq = useRef(0);
  const typing = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(() => () => { if (typing.current) clearTimeout(typing.current); }, []);

  /** Asks for the dry run of `body`; an answer for text that has since changed is dropped. */
  async function check(body: string, name: string | null) {
    const mine = ++seq.current;
    setPlan(null);
    setConfirming(false);
    setError(null);
    if (!body.trim()) {
      setChecking(false);
      return;
    }
    setChecking(true);
    try {
      const result = await api.post<ImportResult>('/v1/rules/import?mode=replace&dry_run=1', undefined, { raw: { body, contentType: contentType(body, name) } });
      if (mine === seq.current) setPlan({ text: body, result });
    } catch (err) {
      if (mine === seq.current) setError(err);
    } finally {
      if (mine === seq.current) setChecking(false);
    }
  }

  async function pick(e: Event) {
    const f = (e.currentTarget as HTMLInputElement).files?.[0];
    if (!f) return;
    const body = await f.text();
    setFileName(f.name);
    setText(body);
    setDone(null);
    await check(body, f.name);
  }

  function typed(body: string) {
    setText(body);
    setFileName(null);
    setDone(null);
    setPlan(null);
    if (typing.current) clearTimeout(typing.current);
    typing.current = setTimeout(() => void check(body, null), 600);
  }

  const current = plan && plan.text === text ? plan.result : null;
  const of = (o: Outcome) => current?.items.filter((i) => i.outcome === o) ?? [];
  const notInFile = of('removed');
  const changes = current ? current.added + current.changed + (mode === 'replace' ? current.removed : 0) : 0;

  async function apply(e: Event) {
    e.preventDefault();
    setError(null);
    setDone(null);
    if (!text.trim()) {
      setError(new Error('Choose a file or paste the rules first.'));
      return;
    }
    if (!current) {
      await check(text, fileName);
      return;
    }
    if (mode === 'replace' && notInFile.length > 0 && !confirming) {
      setConfirming(true);
      return;
    }
    setBusy(true);
    try {
      const r = await api.post<ImportResult>(`/v1/rules/import?mode=${mode}`, undefined, { raw: { body: text, contentType: contentType(text, fileName) } });
      setDone(resultWords(r));
      setPlan(null);
      setConfirming(false);
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
      <p class="sub">
        JSON or YAML, as exported. Rules are matched by name: you see what the file changes before anything is saved, and one invalid
        rule means nothing changes.
      </p>
      <form class="form" onSubmit={apply}>
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
            onInput={(e) => typed((e.currentTarget as HTMLTextAreaElement).value)}
          />
        </div>
        <ProblemBox error={error} title="Nothing was imported" />
        {checking && (
          <p class="loading" role="status">
            Checking what the file changes…
          </p>
        )}
        {current && (
          <section class="panel import-plan" aria-labelledby="plan-title">
            <h2 id="plan-title">What this file changes</h2>
            <p role="status">
              {current.added} to add, {current.changed} to update, {current.unchanged} unchanged
              {notInFile.length > 0 ? `; ${rules(notInFile.length)} not in the file` : ''}.
            </p>
            <Group id="plan-added" title="Added" items={of('added')} />
            <Group id="plan-changed" title="Changed" items={of('changed')} />
            {of('unchanged').length > 0 && (
              <details class="import-group">
                <summary>Unchanged ({of('unchanged').length})</summary>
                <ul class="import-list">
                  {of('unchanged').map((i) => (
                    <li key={i.id ?? i.name}>{i.name}</li>
                  ))}
                </ul>
              </details>
            )}
            <Group id="plan-removed" title={mode === 'replace' ? 'Will be deleted' : 'Not in the file (kept; Replace all rules would delete them)'} items={notInFile} />
            <fieldset class="checks">
              <legend>How to import</legend>
              <label class="check">
                <input type="radio" name="mode" value="merge" checked={mode === 'merge'} onChange={() => { setMode('merge'); setConfirming(false); }} />
                Merge: add and update the rules in the file, keep every other rule
              </label>
              <label class="check">
                <input type="radio" name="mode" value="replace" checked={mode === 'replace'} onChange={() => { setMode('replace'); setConfirming(false); }} />
                Replace all rules: also delete the {rules(notInFile.length)} not in the file
              </label>
            </fieldset>
          </section>
        )}
        {confirming && current && (
          <div class="notice confirm" role="alert">
            <p>
              <strong>
                This deletes {rules(notInFile.length)} not in the file: {names(notInFile)}.
              </strong>{' '}
              This cannot be undone (export the rules first to keep a copy).
            </p>
            <p class="toolbar">
              <button type="submit" class="btn danger" disabled={busy} aria-busy={busy}>
                Delete {rules(notInFile.length)} and import
              </button>
              <button type="button" class="btn" onClick={() => setConfirming(false)}>
                Cancel
              </button>
            </p>
          </div>
        )}
        {done && (
          <p role="status" class="import-done">
            {done} <Link href="/rules">See the rules</Link>
          </p>
        )}
        {!confirming && (
          <button type="submit" class="btn primary" disabled={busy || checking || (!!current && changes === 0)} aria-busy={busy}>
            {current ? (changes === 0 ? 'Nothing to apply' : 'Apply') : 'Check the file'}
          </button>
        )}
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
