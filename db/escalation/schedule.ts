// Escalation arithmetic. Level 0 is the first notification; level L >= 1 is step (L-1) mod n of cycle
// floor((L-1)/n). `after_minutes` counts from the alert's creation; each repeat cycle is shifted by the
// last step's after_minutes, so steps at 60 and 120 with repeat 1 fire at 60, 120, 180 and 240 minutes.
import type { RouteSnapshot } from '../model/alert';

type Policy = RouteSnapshot['escalation'];

export function stepForLevel(policy: Policy, level: number) {
  const n = policy.steps.length;
  if (level < 1 || n === 0) return null;
  const cycle = Math.floor((level - 1) / n);
  if (cycle > policy.repeat) return null;
  return { step: policy.steps[(level - 1) % n], cycle };
}

export function levelDueAt(createdAt: Date, policy: Policy, level: number): Date | null {
  const s = stepForLevel(policy, level);
  if (!s) return null;
  const last = policy.steps[policy.steps.length - 1].after_minutes;
  const minutes = s.cycle * last + s.step.after_minutes;
  return new Date(createdAt.getTime() + minutes * 60_000);
}
