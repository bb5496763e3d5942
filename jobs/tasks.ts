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
import { digest__send } from './digest__send';

export const TASKS: TaskList = {
  event__route,
  alert__escalate,
  alert__sweep,
  message__send,
  message__update,
  webhook__deliver,
  idempotency__cleanup,
  sms__bundle,
  digest__send,
};

export { CRONTAB } from '../db/jobs/catalog';
