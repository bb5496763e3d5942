// The task list: every graphile-worker task Herald runs, named `entity__verb`.
import type { Task } from './task';
import { event__route } from './event__route';
import { alert__escalate } from './alert__escalate';
import { alert__sweep } from './alert__sweep';
import { message__send } from './message__send';
import { message__update } from './message__update';
import { webhook__deliver } from './webhook__deliver';
import { idempotency__cleanup } from './idempotency__cleanup';
import { sms__bundle } from './sms__bundle';

export const TASKS: Record<string, Task> = {
  event__route,
  alert__escalate,
  alert__sweep,
  message__send,
  message__update,
  webhook__deliver,
  idempotency__cleanup,
  sms__bundle,
};

/** graphile-worker crontab lines. */
export const CRONTAB = [
  '* * * * * alert__sweep ?max=1',
  '17 * * * * idempotency__cleanup ?max=1',
].join('\n');
