// The app's navigation as one list. Each page adds ONE entry here; the wide-screen nav row, the phone's bottom
// tab bar and the phone's "More" page are all drawn from it:
// - `tab: true` entries are bottom tabs on a phone (keep it to Queue, Notifications, Dashboards: "More" is
//   always the fourth); every other entry is listed on /more (grouped by `section`) and in the wide nav row;
// - `admin: true` shows the entry only to admins; `permission` only to people holding it (Audit: audit:read);
// - `match` lists extra paths that count as this entry: a prefix (/stats for Analytics) or a pattern with
//   `:param` parts (/alerts/:id: an alert page belongs to the Queue tab).
export interface NavEntry {
  href: string;
  label: string;
  tab?: boolean;
  admin?: boolean;
  permission?: string;
  /** Only the exact path counts (the queue at /). */
  exact?: boolean;
  match?: string[];
  section?: 'Work' | 'Admin' | 'You';
}

export const NAV: NavEntry[] = [
  { href: '/', label: 'Queue', tab: true, exact: true, match: ['/alerts/:id'] },
  { href: '/notifications', label: 'Notifications', tab: true },
  { href: '/dashboards', label: 'Dashboards', tab: true },
  { href: '/alerts', label: 'All alerts', section: 'Work', exact: true },
  { href: '/analytics', label: 'Analytics', section: 'Work', match: ['/stats'] },
  { href: '/schedules', label: 'On call', section: 'Work' },
  { href: '/scores', label: 'Scores', section: 'Work', match: ['/entities'] },
  { href: '/reports', label: 'Reports', section: 'Work' },
  { href: '/rules', label: 'Rules', admin: true, section: 'Admin' },
  { href: '/users', label: 'Users', admin: true, section: 'Admin' },
  { href: '/roles', label: 'Roles', admin: true, section: 'Admin' },
  { href: '/integrations', label: 'Integrations', admin: true, section: 'Admin' },
  { href: '/api-keys', label: 'API keys', admin: true, section: 'Admin' },
  { href: '/webhooks', label: 'Webhooks', admin: true, section: 'Admin' },
  { href: '/expectations', label: 'Expectations', admin: true, section: 'Admin' },
  { href: '/system', label: 'System', admin: true, section: 'Admin' },
  { href: '/audit', label: 'Audit', permission: 'audit:read', section: 'Admin' },
  { href: '/settings', label: 'Settings', section: 'You' },
];

export const MORE_HREF = '/more';

const matches = (p: string, path: string) =>
  p.includes(':') ? new RegExp(`^${p.replace(/:[^/]+/g, '[^/]+')}$`).test(path) : path === p || path.startsWith(p + '/');

export function navCurrent(e: NavEntry, path: string): boolean {
  if (e.match?.some((p) => matches(p, path))) return true;
  return e.exact ? path === e.href : matches(e.href, path);
}

/** The entries this person may see (`may`: whether they hold a permission). */
export const visibleNav = (admin: boolean, may: (permission: string) => boolean = () => false) =>
  NAV.filter((e) => (!e.admin || admin) && (!e.permission || admin || may(e.permission)));
