import type { Task } from './task';
import { fireExpectation } from '../db/expectations/watch';
import { insertEvents } from '../db/events/ingest';

/** An expectation's timer: the expected event did not come in time, so its `then` event is posted. Stale timers exit quietly. */
export const expectation__due: Task<'expectation__due'> = async (h, p) => {
  await fireExpectation(h, { post: insertEvents }, p);
};
