// The task list: one implementation per entry of the job catalog (db/jobs/catalog.ts), named `entity__verb`.
// `TaskList` makes the compiler refuse a catalog entry without its task, or a task with the wrong payload.
import type { TaskList } from './task';
import { event__route } from './event__route';
import { alert__escalate } from './alert__escalate';
import { alert__sweep } from './alert__sweep';
import { message__send } from './message__send';
import { message__update } from './message__update';
import { webhook__deliver } from './webhook__deliver';
import { idempotency__cleanup } from './idempotency__cleanup';
import { sms__bundle } from './sms__bundle';
import { alert__note } from './alert__note';
import { heartbeat__check } from './heartbeat__check';
import { expectation__due } from './expectation__due';
import { metric__rollup } from './metric__rollup';
import { metric__rebuild } from './metric__rebuild';
import { analytics__rollup } from './analytics__rollup';
import { metric__check } from './metric__check';
import { digest__send } from './digest__send';
import { score__recompute } from './score__recompute';
import { score__recompute_all } from './score__recompute_all';
import { model__train } from './model__train';
import { system__prune } from './system__prune';
import { report__generate } from './report__generate';
import { import__run } from './import__run';

export const TASKS: TaskList = {
  event__route,
  alert__escalate,
  alert__sweep,
  message__send,
  message__update,
  webhook__deliver,
  idempotency__cleanup,
  sms__bundle,
  alert__note,
  heartbeat__check,
  expectation__due,
  metric__rollup,
  metric__rebuild,
  analytics__rollup,
  metric__check,
  digest__send,
  score__recompute,
  score__recompute_all,
  model__train,
  system__prune,
  report__generate,
  import__run,
};

export { CRONTAB } from '../db/jobs/catalog';
