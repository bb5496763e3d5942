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

export const PRIORITY_RANK: Record<Priority, number> = { critical: 0, high: 1, normal: 2, low: 3 };
export const CHANNELS = ['in_app', 'slack', 'discord', 'sms', 'email', 'push'] as const;
export const CHANNEL_LABELS: Record<string, string> = {
  in_app: 'In-app', slack: 'Slack', discord: 'Discord', sms: 'SMS', email: 'Email', push: 'Push',
};
export const SEVERITIES = ['info', 'warning', 'error', 'critical'] as const;
export const PRIORITIES = ['low', 'normal', 'high', 'critical'] as const;

export function label(s: string): string {
  if (s === 'ceo') return 'CEO';
  const t = s.replace(/_/g, ' ');
  return t.charAt(0).toUpperCase() + t.slice(1);
}
