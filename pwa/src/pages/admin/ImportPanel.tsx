// An import of a CSV or JSON file (users or events) through /v1/imports: pick a file (a dry run first if wanted),
// watch its progress live, download the failed rows (errors.csv), retry them as they were or upload the corrected
// file, and see the recent imports.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, request } from '../../api';
import { ProblemBox } from '../../components/Problem';
import { useAction } from '../../hooks';
import { ago } from '../../time';

export interface ImportView {
  id: number; kind: 'users' | 'events'; format: string; dry_run: boolean; status: 'uploading' | 'queued' | 'running' | 'succeeded' | 'failed';
  filename: string | null; progress: number; done: number; total: number | null; ok: number; failed: number; skipped: number;
  error: string | null; retry_of: number | null; created_at: string; finished_at: string | null;
}

const finished = (v: ImportView) => v.status === 'succeeded' || v.status === 'failed';
const contentType = (f: File) => f.type || (/\.json$/i.test(f.name) ? 'application/json' : 'text/csv');

function summary(v: ImportView): string {
  const verb = v.dry_run ? 'would be imported' : 'imported';
  const rows = `${v.done} ${v.done === 1 ? 'row' : 'rows'}`;
  if (!finished(v)) return `${v.status === 'queued' ? 'Waiting' : 'Importing'}: ${rows} read, ${v.ok} ${verb}, ${v.failed} failed`;
  if (v.status === 'failed') return `The import failed: ${v.error ?? 'unknown error'}`;
  return `${v.dry_run ? 'Dry run done' : 'Done'}: ${rows}, ${v.ok} ${verb}, ${v.failed} failed, ${v.skipped} already imported`;
}

export function ImportPanel({ kind, onImported }: { kind: 'users' | 'events'; onImported?: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [dryRun, setDryRun] = useState(false);
  const [current, setCurrent] = useState<ImportView | null>(null);
  const [history, setHistory] = useState<ImportView[] | null>(null);
  const [corrected, setCorrected] = useState<File | null>(null);
  const { busy, error, run } = useAction();
  const [pollError, setPollError] = useState<unknown>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const fixInput = useRef<HTMLInputElement>(null);

  const loadHistory = () => api.get<{ items: ImportView[] }>(`/v1/imports?kind=${kind}`).then((r) => setHistory(r.items.slice(0, 10)), () => {});
  useEffect(() => {
    loadHistory();
  }, []);

  // Live progress: the import is polled until it finishes.
  useEffect(() => {
    if (!current || finished(current)) return;
    const t = setTimeout(async () => {
      try {
        const v = await api.get<ImportView>(`/v1/imports/${current.id}`);
        setCurrent(v);
        if (finished(v)) {
          loadHistory();
          if (!v.dry_run && v.ok > 0) onImported?.();
        }
      } catch (e) {
        setPollError(e);
      }
    }, 400);
    return () => clearTimeout(t);
  }, [current]);

  const started = async (r: { import_id: number }) => {
    setPollError(null);
    setCurrent(await api.get<ImportView>(`/v1/imports/${r.import_id}`));
  };

  const submit = (e: Event) => {
    e.preventDefault();
    if (!file) return;
    run(async () => {
      const q = new URLSearchParams({ kind, dry_run: dryRun ? '1' : '0', filename: file.name });
      await started(await api.post<{ import_id: number }>(`/v1/imports?${q}`, undefined, { raw: { body: file, contentType: contentType(file) } }));
      setFile(null);
      if (fileInput.current) fileInput.current.value = '';
    });
  };
  const retry = () => current && run(async () => started(await request<{ import_id: number }>('POST', `/v1/imports/${current.id}/retry`)));
  const uploadCorrected = (e: Event) => {
    e.preventDefault();
    if (!current || !corrected) return;
    run(async () => {
      const q = new URLSearchParams({ filename: corrected.name });
      await started(await api.post<{ import_id: number }>(`/v1/imports/${current.id}/retry?${q}`, undefined, { raw: { body: corrected, contentType: contentType(corrected) } }));
      setCorrected(null);
      if (fixInput.current) fixInput.current.value = '';
    });
  };

  const id = `imp-${kind}`;
  return (
    <section class="panel" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Import {kind}</h2>
      <p class="hint" id={`${id}-hint`}>
        CSV with the API's field names as columns ({kind === 'users' ? 'name, email, phone, roles separated by ;, timezone…' : 'category, type, title, severity, metadata as JSON…'}) or a JSON array. Rows already imported are never imported twice.
      </p>
      <form class="form" onSubmit={submit}>
        <div class="field">
          <label for={`${id}-file`}>File to import (CSV or JSON)</label>
          <input
            id={`${id}-file`}
            ref={fileInput}
            type="file"
            accept=".csv,.json,text/csv,application/json"
            aria-describedby={`${id}-hint`}
            onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
          />
        </div>
        <label class="check">
          <input type="checkbox" checked={dryRun} onChange={(e) => setDryRun(e.currentTarget.checked)} />
          Dry run (check every row, import nothing)
        </label>
        <button type="submit" class="btn primary" disabled={busy || !file} aria-busy={busy}>
          {dryRun ? 'Check file' : 'Import'}
        </button>
      </form>
      <ProblemBox error={error} title="The import did not start" />
      <ProblemBox error={pollError} title="The import's progress could not be read" />
      {current && (
        <section aria-label="Import progress" class="import-group">
          <progress max={1} value={current.progress} aria-label={`Import ${current.id} progress`} />
          <p role="status" aria-live="polite">
            {summary(current)}
          </p>
          {finished(current) && current.failed > 0 && (
            <div class="form">
              <p>
                <a href={`/v1/imports/${current.id}/errors.csv`} download>
                  Download the failed rows (errors.csv)
                </a>
              </p>
              <div class="toolbar">
                <button type="button" class="btn" disabled={busy} onClick={retry}>
                  Retry failed rows as they were
                </button>
              </div>
              <form class="form" onSubmit={uploadCorrected}>
                <div class="field">
                  <label for={`${id}-fix`}>Corrected errors file</label>
                  <input id={`${id}-fix`} ref={fixInput} type="file" accept=".csv,.json,text/csv,application/json" onChange={(e) => setCorrected(e.currentTarget.files?.[0] ?? null)} />
                </div>
                <button type="submit" class="btn" disabled={busy || !corrected}>
                  Import corrected rows
                </button>
              </form>
            </div>
          )}
        </section>
      )}
      {history && history.length > 0 && (
        <div class="table-wrap" tabIndex={0} role="region" aria-label={`Recent ${kind} imports`}>
          <table class="table">
            <thead>
              <tr>
                <th scope="col">File</th>
                <th scope="col">When</th>
                <th scope="col">Result</th>
              </tr>
            </thead>
            <tbody>
              {history.map((v) => (
                <tr key={v.id}>
                  <th scope="row">
                    {v.filename ?? `Import ${v.id}`}
                    {v.retry_of && <span class="hint"> (retry of {v.retry_of})</span>}
                  </th>
                  <td>{ago(v.created_at)}</td>
                  <td>{summary(v)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
