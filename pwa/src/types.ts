// Shapes the PWA reads from the API. AlertView is imported from the domain layer so the PWA cannot drift
// from what the server builds (type-only: nothing from db/ reaches the bundle).
import type { AlertView, ActorRef } from '../../db/model/alert';
import type { NotificationItem, UnreadCounts } from '../../db/notifications/repo';

export type { AlertView, ActorRef, NotificationItem };
export type Priority = AlertView['priority'];
export type Severity = AlertView['severity'];
export type SopViewT = NonNullable<AlertView['sop']>;

export interface User {
  id: number;
  name: string;
  email: string;
  roles: string[];
  /** The permissions the user's roles grant (GET /v1/auth/me), for showing pages the user may open. */
  permissions?: string[];
  phone?: string | null;
  timezone?: string | null;
  slack_user_id?: string | null;
  discord_user_id?: string | null;
}

export interface Session {
  user: User;
  csrf_token: string;
}

export interface TimelineEntry {
  id: number;
  at: string;
  kind: string;
  actor: { kind: string; name: string } | null;
  detail: unknown;
}

export interface AlertDetail extends AlertView {
  timeline: TimelineEntry[];
  sop_progress: { checked: number[]; ticks?: Array<{ step: number; by: ActorRef; at: string }> };
}

export interface AlertList {
  items: AlertView[];
  next_cursor: string | null;
}

export const CATEGORIES = ['finance', 'sales', 'production', 'system'] as const;
export type Category = (typeof CATEGORIES)[number];

export interface NotificationList {
  items: NotificationItem[];
  unread: UnreadCounts;
}

export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail?: string;
  errors?: Array<{ path: string | Array<string | number>; message: string }>;
}

// The server's vocabulary, imported rather than re-declared (db/model imports nothing, so only these
// constants reach the bundle): channels, severities and priorities in the server's order (lowest first).
import { CHANNEL_LABELS as LABELS_BY_KIND } from '../../db/model/channels';
export { CHANNEL_KINDS as CHANNELS } from '../../db/model/channels';
/** By any string: timeline rows and API answers carry channel names as plain strings. */
export const CHANNEL_LABELS: Record<string, string> = LABELS_BY_KIND;
export { SEVERITIES, PRIORITIES, priorityRank } from '../../db/model/levels';
export { roleLabel as label } from '../../db/model/alert';
