// What becomes of one outgoing message (a row of `messages`), declared once: the states, which of them are
// final, and what a channel adapter answers when asked to send. The CHECK constraint on messages.status
// (migration 00005) lists the same states.
//
//   pending ──send──► sent ──provider callback──► delivered
//      │               └──────provider callback──► failed
//      ├──temporary failure──► failed_temp ──retry──► (as pending) … ──attempts exhausted──► failed
//      ├──permanent failure──► failed
//      └──rate limit (SMS)───► held ──bundle text sent──► sent
export const MESSAGE_STATUSES = ['pending', 'held', 'failed_temp', 'sent', 'delivered', 'failed'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** A final message is never sent again (a send job finding one exits quietly: retries never send twice). */
export function isFinal(s: MessageStatus | string): boolean {
  return s === 'sent' || s === 'delivered' || s === 'failed';
}

/** A channel adapter's answer to `send` (and `update`). */
export type SendResult =
  | { outcome: 'sent'; providerRef?: string; providerState?: unknown; delivered?: boolean; /** added to the timeline row */ detail?: Record<string, unknown> }
  | { outcome: 'failed_temp'; error: string; retryAfterMs?: number }
  | { outcome: 'failed_perm'; error: string };

/**
 * `send` only: the channel took the message but will finish it later itself (SMS over a phone's rate
 * limit waits for one bundle text, which then records the message as sent). Status `held`, no retry.
 */
export type DeferredResult = { outcome: 'deferred'; reason: string };
