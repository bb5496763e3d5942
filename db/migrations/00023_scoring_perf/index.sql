-- Scoring at 100,000 entities (db/scoring/recompute.ts): the foreign keys from score values and history to their
-- score cost a trigger call per written row (~10 µs of Postgres CPU a row, a tenth of recompute-all's insert
-- time, measured 2026-11-29). Every writer of these rows already holds a lock on the score's row (FOR NO KEY
-- UPDATE), and deleting a score takes FOR UPDATE on it first and deletes its values and history in the same
-- transaction (db/scoring/verbs.ts deleteScoreVerb), so no row can outlive its score without the constraint.
alter table score_values drop constraint score_values_score_id_fkey;
alter table score_history drop constraint score_history_score_id_fkey;
