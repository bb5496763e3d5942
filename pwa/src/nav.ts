// The app's navigation as one list. Each page adds ONE entry here; the wide-screen nav row, the phone's bottom
// tab bar and the phone's "More" page are all drawn from it:
// - `tab: true` entries are bottom tabs on a phone (keep it to Queue, Notifications, Dashboards: "More" is
//   always the fourth); every other entry is listed on /more (grouped by `section`) and in the wide nav row;
// - `admin: true` shows the entry only to admins;
// - `match` lists extra path prefixes that count as this entry (e.g. /stats for Analytics).
export interface NavEntry {
  href: string;
  label: string;
  tab?: boolean;
  admin?: boolean;
  /** Only the exact path counts (the queue at /). */
  exact?: boolean;
  match?: string[];
  section?: 'Work' | 'Admin' | 'You';
}

export const NAV: NavEntry[] = [
  { href: '/', label: 'Queue', tab: true, exact: true },
  { href: '/notifications', label: 'Notifications', tab: true },
  { href: '/dashboards', label: 'Dashboards', tab: true },
  { href: '/alerts', label: 'All alerts', section: 'Work' },
  { href: '/analytics', label: 'Analytics', section: 'Work', match: ['/stats'] },
  { href: '/schedules', label: 'On call', section: 'Work' },
  { href: '/rules', label: 'Rules', admin: true, section: 'Admin' },
  { href: '/users', label: 'Users', admin: true, section: 'Admin' },
  { href: '/roles', label: 'Roles', admin: true, section: 'Admin' },
  { href: '/integrations', label: 'Integrations', admin: true, section: 'Admin' },
  { href: '/settings', label: 'Settings', section: 'You' },
];

export const MORE_HREF = '/more';

export function navCurrent(e: NavEntry, path: string): boolean {
  if (e.exact) return path === e.href;
  return [e.href, ...(e.match ?? [])].some((p) => path === p || path.startsWith(p + '/'));
}

/** The entries this person may see. */
export const visibleNav = (admin: boolean) => NAV.filter((e) => !e.admin || admin);
