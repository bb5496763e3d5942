// The nightly pass: count windows slide with time even when no event arrives, and models learn from the day's
// outcomes, so every score gets a run (models train first, then predict).
import type { Pool } from '../platform/sql';
import type { ScoreRow } from './schema';
import { queueRun } from './verbs';

export async function nightlyRuns(sql: Pool) {
  const scores = await sql<ScoreRow[]>`select * from scores order by id`;
  for (const s of scores) await sql.begin((tx) => queueRun(tx, s, s.definition.model ? 'train' : 'recompute', 'nightly'));
}
