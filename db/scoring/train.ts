// model__train: fits a model score from the entities whose outcome is known (model.ts), keeps the version with
// its held-out AUC and calibration, then predicts for every open entity (recompute.ts). A model that cannot be
// trained (one class, too few outcomes) is recorded as refused with its reason, and the previous version stays.
import type { Pool } from '../platform/sql';
import { labelledEntities } from './entities';
import { fit } from './model';
import { finishRun, recomputeAll } from './recompute';
import type { ScoreRow, TrainedModel } from './schema';

export async function trainScore(pool: Pool, scoreId: number, runId: number | null) {
  const t0 = Date.now();
  const [s] = await pool<ScoreRow[]>`select * from scores where id = ${scoreId}`;
  if (!s || !s.definition.model) return;
  if (runId !== null) {
    const [run] = await pool<{ status: string }[]>`update score_runs set status = 'running', started_at = coalesce(started_at, now()), progress = 0.05
      where id = ${runId} and status in ('queued', 'running') returning status`;
    if (!run) return;
  }
  const spec = s.definition.model;
  const rows = await labelledEntities(pool, s.org_id, s.entity_kind, spec.outcome.positive, spec.outcome.negative);
  const r = fit(spec, rows);
  const fitMs = Date.now() - t0;
  const [{ v }] = await pool<{ v: number }[]>`select coalesce(max(version), 0) + 1 as v from score_models where score_id = ${s.id}`;
  if (!r.ok) {
    await pool`insert into score_models (score_id, version, status, message, samples, detail)
      values (${s.id}, ${v}, 'refused', ${r.reason}, ${rows.length}, ${pool.json({ positives: r.positives, negatives: r.negatives })})`;
    if (runId !== null) {
      await finishRun(pool, runId, 'failed', { version: v, positives: r.positives, negatives: r.negatives, kept_version: s.model?.version ?? null, fit_ms: fitMs }, `Not trained: ${r.reason}. ${s.model ? `Version ${s.model.version} stays in use.` : 'No version is in use yet.'}`);
    }
    return;
  }
  const model: TrainedModel = { ...r.model, version: v, trained_at: new Date().toISOString() };
  const detail = { positives: r.positives, negatives: r.negatives, train_n: r.train_n, holdout_n: r.holdout_n, train_auc: r.train_auc, calibration: model.calibration, coefficients: model.coefficients, fit_ms: fitMs };
  await pool.begin(async (tx) => {
    await tx`insert into score_models (score_id, version, status, samples, auc, detail)
      values (${s.id}, ${v}, 'trained', ${model.samples}, ${model.auc}, ${tx.json(detail as never)})`;
    await tx`update scores set model = ${tx.json(model as never)}, updated_at = now() where id = ${s.id}`;
    if (runId !== null) await tx`update score_runs set progress = 0.5 where id = ${runId}`;
  });
  const done = await recomputeAll(pool, s.id, runId, { progressFrom: 0.5, progressSpan: 0.5 });
  if (runId !== null) await finishRun(pool, runId, 'succeeded', { version: v, auc: model.auc, samples: model.samples, ...detail, predicted: done?.scored ?? 0, ms: Date.now() - t0 });
}
