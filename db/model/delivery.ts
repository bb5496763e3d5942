// What becomes of one outgoing message (a row of `messages`), declared once: the states, which of them are
// final, and what a channel adapter answers when asked to send. The CHECK constraint on messages.status
// (migration 00005) lists the same states.
//
//   pending ──send──► sent ──provider callback──► delivered
//      │               └──────provider callback──► failed
//      ├──temporary failure──► failed_temp ──retry──► (as pending) … ──attempts exhausted──► failed
//      ├──permanent failure──► failed
//      └──rate limit (SMS)───► held ──bundle text sent──► sent
//   held_quiet (the person's quiet hours) ──quiet hours end──► sent as pending would be
//              └──the alert was acknowledged or resolved meanwhile──► dropped
//   held_digest (a low-priority notification for the person's digest) ──digest sent──► digested
// (migration 00014 extends the CHECK constraint with the last four.)
export const MESSAGE_STATUSES = ['pending', 'held', 'held_quiet', 'held_digest', 'failed_temp', 'sent', 'delivered', 'failed', 'digested', 'dropped'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** A final message is never sent again (a send job finding one exits quietly: retries never send twice). */
export function isFinal(s: MessageStatus | string): boolean {
  return s === 'sent' || s === 'delivered' || s === 'failed' || s === 'digested' || s === 'dropped';
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
