// A digest: one message per period that covers a person's held low-priority notifications. Types only.
import type { AlertView } from './alert';

export interface DigestView {
  id: number;
  frequency: 'daily' | 'weekly';
  /** When the period closed. */
  period_end: string;
  /** The alerts it covers, as they stand when it is sent (what happened, what is still open). */
  alerts: AlertView[];
}
