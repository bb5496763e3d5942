// "Escalates to Admin in 12 min", ticking. role="timer" is not announced on every tick (its implicit
// aria-live is off); the queue announces threshold crossings politely instead (see pages/Queue.tsx).
import { useNow, until } from '../time';
import type { AlertView } from '../types';

export function countdownText(a: AlertView, now: number): string | null {
  const next = a.escalation?.next_at;
  if (a.status !== 'triggered' || !next) return null;
  const to = a.escalation.next_to;
  const left = Date.parse(next) - now;
  if (left <= 0) return to ? `Escalating to ${to} now` : 'Escalating now';
  return to ? `Escalates to ${to} in ${until(next, now)}` : `Escalates in ${until(next, now)}`;
}

export function Countdown({ alert }: { alert: AlertView }) {
  const now = useNow();
  const text = countdownText(alert, now);
  if (!text) return null;
  const left = Date.parse(alert.escalation.next_at!) - now;
  return (
    <p class={`countdown${left < 5 * 60_000 ? ' urgent' : ''}`} role="timer">
      {/* An inline clock rather than the ⏱ emoji: phones without an emoji font showed a blank box. */}
      <svg class="countdown-icon" aria-hidden="true" focusable="false" width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round">
        <circle cx="12" cy="13" r="8" />
        <path d="M12 9v4l2.5 2.5M9 2h6" />
      </svg>{' '}
      {text}
    </p>
  );
}
