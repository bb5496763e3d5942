// The preset rule for Herald's own alerts (category `herald`): the admins, in the app, by push and by email
// (channels without credentials are skipped), priority high, first in order. Created once, on the first start
// with self-alerting on (HERALD_WATCH_ALERTS=1, the default), like the preset metrics and dashboards: the
// marker row in `settings` is written in the same transaction, so an edited or deleted preset stays as the
// admins left it.
import type { Pool } from '../platform/sql';
import { RuleInputSchema } from '../rules/schema';
import { insertRule } from '../rules/repo';
import { DEFAULT_ORG_ID } from '../model/org';

export const HERALD_RULE = RuleInputSchema.parse({
  name: 'Herald itself (preset)',
  position: 0,
  match: { category: 'herald' },
  targets: { roles: ['admin'] },
  channels: ['in_app', 'push', 'email'],
  priority: 'high',
  sop: {
    title: 'Herald needs attention',
    steps: ['Open the System page in the app (uptime, processes, checks)', 'Read /readyz and the process logs', 'Follow docs/operations.md'],
  },
});

export async function ensureHeraldRule(sql: Pool, orgId = DEFAULT_ORG_ID): Promise<void> {
  await sql.begin(async (tx) => {
    const first = await tx`insert into settings (name, value) values ('preset:herald_rule', now()::text) on conflict (name) do nothing returning name`;
    if (first.length) await insertRule(tx, orgId, HERALD_RULE);
  });
}
