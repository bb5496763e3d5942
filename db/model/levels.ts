// Severity (what the sender says) and priority (what the rules decide), lowest first. Shared with the PWA:
// this folder imports nothing, so any layer (and the browser bundle) may import it.
export const SEVERITIES = ['info', 'warning', 'error', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const severityRank = (s: Severity) => SEVERITIES.indexOf(s);

export const PRIORITIES = ['low', 'normal', 'high', 'critical'] as const;
export type Priority = (typeof PRIORITIES)[number];
/** Higher is more urgent: `critical` 3 … `low` 0. */
export const priorityRank = (p: Priority) => PRIORITIES.indexOf(p);
