// The job catalog: every graphile-worker task Herald runs, with the schema of its payload, the key that
// makes it a timer or coalesces it (graphile-worker replaces a pending job with the same key), its default
// options and, for periodic work, its crontab schedule. This is the one place a task name or a job key is
// spelled out. A new kind of work adds one entry here and one file `jobs/<name>.ts`; the compiler then
// refuses a task list (jobs/tasks.ts) that lacks it and an enqueue whose payload does not fit.
//
// Payloads are parsed by the worker before a task runs: old jobs outlive code, and a payload that no
// longer parses is dropped quietly (logged) instead of failing forever.
import { z } from 'zod';

const id = z.number().int().positive();

interface JobDef<P extends z.ZodType> {
  payload: P;
  /** The job key for a payload: one pending job per key (timers, coalesced edits). */
  key?: (p: z.output<P>) => string;
  /** Defaults for every enqueue of the task (an enqueue may override them). */
  defaults?: { max_attempts?: number; priority?: number; queue_name?: string };
  /** graphile-worker crontab schedule (`min hour dom month dow`) for periodic tasks. */
  cron?: string;
  /**
   * Which worker runner takes the task: `main` (routing, timers, chat; the default) or `deliveries` (outbound
   * webhooks, their own slots, so that a dead receiver can never hold up routing; jobs/worker.ts).
   */
  runner?: 'main' | 'deliveries';
}

const def = <P extends z.ZodType>(d: JobDef<P>) => d;

export const JOBS = {
  /** Routes a batch of accepted events (db/events/route.ts). Written by the ingest statement itself. */
  event__route: def({ payload: z.object({ event_ids: z.array(id).min(1) }) }),
  /**
   * The alert's one timer: the next escalation level, or the end of a snooze ({wake: true}); {resumed: true}
   * marks a level held by a maintenance window, due at the window's end.
   */
  alert__escalate: def({
    payload: z.object({ alert_id: id, level: id.optional(), wake: z.boolean().optional(), resumed: z.boolean().optional() }),
    key: (p) => `alert:${p.alert_id}:escalation`,
  }),
  /** Safety net: re-creates missing timers, re-routes events whose job was lost. */
  alert__sweep: def({ payload: z.object({}).passthrough(), cron: '* * * * *' }),
  /** Sends one message through its channel's adapter. */
  message__send: def({ payload: z.object({ message_id: id }), key: (p) => `message:${p.message_id}:send` }),
  /** Edits a posted message to show the alert's current state; rapid changes coalesce on the key. */
  message__update: def({
    payload: z.object({ message_id: id, attempt: z.number().int().optional() }),
    key: (p) => `message:${p.message_id}:update`,
  }),
  /** Posts one note of an alert as a reply in the thread of one posted Slack or Discord message. */
  alert__note: def({
    payload: z.object({ alert_id: id, note_id: id, message_id: id, attempt: z.number().int().optional() }),
    key: (p) => `note:${p.note_id}:message:${p.message_id}`,
  }),
  /**
   * Delivery attempts: a fan-out group of first attempts (unkeyed), one delivery's retry or manual retry
   * (keyed by delivery), or the end of a circuit-breaker pause for one webhook (keyed by webhook). Queued per
   * webhook by db/webhooks/fanout.ts `deliveryJob`.
   */
  webhook__deliver: def({
    payload: z.union([
      z.object({ delivery_ids: z.array(id).min(1), manual: z.boolean().optional(), webhook_id: z.number().optional() }),
      z.object({ delivery_id: id, manual: z.boolean().optional() }),
      z.object({ webhook_id: id, resume: z.literal(true) }),
    ]),
    key: (p) => ('delivery_id' in p ? `delivery:${p.delivery_id}` : 'resume' in p ? `webhook:${p.webhook_id}:resume` : ''),
    runner: 'deliveries',
  }),
  /** Idempotency keys answer repeats for 24 hours; older ones are deleted. */
  idempotency__cleanup: def({ payload: z.object({}).passthrough(), cron: '17 * * * *' }),
  /** The one text that covers every SMS held back by a phone's rate limit. */
  sms__bundle: def({
    payload: z.object({ phone: z.string().min(2).max(20), attempt: z.number().int().positive().optional() }),
    key: (p) => `sms:bundle:${p.phone}`,
  }),
  /** A heartbeat monitor's one timer, due at its last ping + interval + grace; each ping moves it (db/integrations/heartbeats.ts). */
  heartbeat__check: def({ payload: z.object({ heartbeat_id: id }), key: (p) => `heartbeat:${p.heartbeat_id}:due` }),
  /** An expectation's timer for one subject (entity or dedup key): due when the expected event did not come (db/expectations/watch.ts). */
  expectation__due: def({
    payload: z.object({ expectation_id: id, subject: z.string().min(1).max(400), event_id: id }),
    key: (p) => `expectation:${p.expectation_id}:${p.subject}`,
  }),
  /** Applies the next batch of settled events to every metric's rollups (db/metrics/rollup.ts); re-enqueues itself. */
  metric__rollup: def({ payload: z.object({}).passthrough(), key: () => 'metric:rollup', cron: '* * * * *' }),
  /**
   * Keeps the analytics rollups (db/analytics/rollup.ts): recomputes the hours whose alerts changed (followed on
   * the timeline and messages by id) and the hours not computed yet; re-enqueues itself, the minute cron restarts it.
   */
  analytics__rollup: def({ payload: z.object({}).passthrough(), key: () => 'analytics:rollup', cron: '* * * * *' }),
  /** Rebuilds one metric's rollups from the events after it was (re)defined, in chunks with progress. */
  metric__rebuild: def({
    payload: z.object({ metric_id: id, version: z.number().int().positive() }),
    key: (p) => `metric:${p.metric_id}:rebuild`,
  }),
  /** Checks every metric against its thresholds and seasonal baseline; posts kpi/* events (db/metrics/check.ts). */
  metric__check: def({ payload: z.object({}).passthrough(), cron: '* * * * *' }),
  /**
   * Digests (db/messages/digest.ts): `{}` on the crontab finds the people whose period closed; `{user_id}`
   * closes one person's period (keyed: one at a time per person); `{digest_id}` sends one digest.
   */
  digest__send: def({
    payload: z.union([z.object({ user_id: id }).strict(), z.object({ digest_id: id }).strict(), z.object({}).passthrough()]),
    key: (p) => ('user_id' in p ? `digest:user:${p.user_id}` : 'digest_id' in p ? `digest:${p.digest_id}:send` : ''),
    cron: '* * * * *',
  }),
  /**
   * Scoring (db/scoring/recompute.ts): applies the next batches of settled events to their entities and
   * rescores the touched ones (one pending job, keyed; re-enqueues itself; the minute cron restarts the chain).
   */
  score__recompute: def({ payload: z.object({}).passthrough(), key: () => 'score:recompute', cron: '* * * * *' }),
  /**
   * Recomputes every entity of one score (`{score_id, run_id}`: after a definition change or on request, with
   * progress in its run), or `{}` nightly: every score (models retrain first).
   */
  score__recompute_all: def({
    payload: z.union([z.object({ score_id: id, run_id: id }).strict(), z.object({}).strict()]),
    key: (p) => ('score_id' in p ? `score:${p.score_id}:recompute_all` : ''),
    cron: '17 3 * * *',
  }),
  /** Trains a model score from the entities whose outcome is known, then predicts for the open ones (db/scoring/train.ts). */
  model__train: def({ payload: z.object({ score_id: id, run_id: id }), key: (p) => `score:${p.score_id}:train` }),
  /** Retention: deletes events, deliveries, timelines, notifications and readiness rows past their age (db/system/retention.ts). */
  system__prune: def({ payload: z.object({}).passthrough(), key: () => 'system:prune', cron: '*/10 * * * *' }),
  /**
   * Reports (db/reports/generate.ts): `{report_id, scheduled_for}` is a report's schedule, one keyed job at its
   * next due instant (it creates that slot's run and moves itself to the next); `{run_id}` renders one run.
   * Reports share one queue: one renders at a time, so a burst of Monday-morning PDFs cannot take the worker's memory.
   */
  report__generate: def({
    payload: z.union([z.object({ report_id: id, scheduled_for: z.string().min(1).max(40) }).strict(), z.object({ run_id: id }).strict()]),
    key: (p) => ('report_id' in p ? `report:${p.report_id}:schedule` : `report-run:${p.run_id}`),
    defaults: { queue_name: 'reports', max_attempts: 3 },
  }),
  /** Runs one import (db/imports/run.ts): reads the stored file in batches with progress; keyed, one run per import. */
  import__run: def({
    payload: z.object({ import_id: id }),
    key: (p) => `import:${p.import_id}`,
    defaults: { max_attempts: 5 },
  }),
} as const;

export type TaskName = keyof typeof JOBS;
export type PayloadOf<N extends TaskName> = z.output<(typeof JOBS)[N]['payload']>;
export const TASK_NAMES = Object.keys(JOBS) as TaskName[];

/** A job to add (see enqueue.ts: `addJobs` inserts many in one statement inside the caller's transaction). */
export interface JobSpec<N extends TaskName = TaskName> {
  identifier: N;
  payload: PayloadOf<N>;
  run_at?: Date | string;
  job_key?: string;
  max_attempts?: number;
  priority?: number;
  queue_name?: string;
}

export type JobOptions = Omit<JobSpec, 'identifier' | 'payload' | 'job_key'>;

/** The typed way to describe a job: its key and defaults come from the catalog. */
export function job<N extends TaskName>(name: N, payload: PayloadOf<N>, opts: JobOptions = {}): JobSpec<N> {
  const d = JOBS[name] as JobDef<z.ZodType>;
  const key = d.key?.(payload);
  return { identifier: name, payload, ...d.defaults, ...opts, ...(key ? { job_key: key } : {}) };
}

/** The key of a task's job for a payload (to cancel a timer with `removeJobs`). */
export function jobKey<N extends TaskName>(name: N, payload: PayloadOf<N>): string {
  const k = (JOBS[name] as JobDef<z.ZodType>).key?.(payload);
  if (!k) throw new Error(`${name} jobs have no key`);
  return k;
}

/** The alert's timer key, for cancelling it inside a transaction. */
export const escalationKey = (alertId: number) => jobKey('alert__escalate', { alert_id: alertId });

/** The runner that takes a task (see JobDef.runner). */
export const runnerOf = (name: TaskName): 'main' | 'deliveries' => (JOBS[name] as JobDef<z.ZodType>).runner ?? 'main';

/** Parses a job's payload against the catalog (null when it no longer fits: the job is stale). */
export function parsePayload<N extends TaskName>(name: N, raw: unknown): PayloadOf<N> | null {
  const r = JOBS[name].payload.safeParse(raw);
  return r.success ? (r.data as PayloadOf<N>) : null;
}

/** graphile-worker's crontab, from the catalog's periodic tasks (`?max=1`: never more than one run at a time). */
export const CRONTAB = TASK_NAMES.filter((n) => (JOBS[n] as JobDef<z.ZodType>).cron)
  .map((n) => `${(JOBS[n] as JobDef<z.ZodType>).cron} ${n} ?max=1`).join('\n');
