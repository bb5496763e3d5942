import type { Task } from './task';
import { addJobs, job } from '../db/jobs/enqueue';
import { claimDigest, closeDigest, dueDigestUsers, recordDigestSend } from '../db/messages/digest';

/**
 * Digests: the crontab's run ({}) finds the people whose period closed and enqueues one keyed job each;
 * {user_id} closes that person's period (nothing is sent for an empty one); {digest_id} sends it, by email
 * or as a Slack DM (db/messages/digest.ts `digestChannel`). The digest is claimed before the provider call,
 * so a crash never sends it twice; a temporary failure puts it back and throws, so graphile-worker retries
 * with backoff.
 */
export const digest__send: Task<'digest__send'> = async (h, p, adapters) => {
  if ('digest_id' in p && typeof p.digest_id === 'number') {
    const claimed = await claimDigest(h, p.digest_id);
    if (!claimed || claimed.channel === 'in_app') return;
    const adapter = adapters[claimed.channel];
    if (!adapter.enabled || !adapter.sendDigest) {
      await recordDigestSend(h.sql, p.digest_id, { ok: false, error: `${claimed.channel} is not configured` });
      return;
    }
    const r = await adapter.sendDigest(claimed.user, claimed.digest, { sql: h.sql, config: h.config, key: h.key });
    if (r.outcome === 'sent') await recordDigestSend(h.sql, p.digest_id, { ok: true, providerRef: r.providerRef });
    else if (r.outcome === 'failed_perm') await recordDigestSend(h.sql, p.digest_id, { ok: false, error: r.error });
    else {
      await recordDigestSend(h.sql, p.digest_id, { ok: false, error: r.error, retry: true });
      throw new Error(`digest ${p.digest_id}: ${r.error}`);
    }
    return;
  }
  if ('user_id' in p && typeof p.user_id === 'number') {
    await closeDigest(h, p.user_id, { email: adapters.email.reaches, slack: adapters.slack.reaches });
    return;
  }
  const due = await dueDigestUsers(h.sql);
  await addJobs(h.sql, due.map((user_id) => job('digest__send', { user_id })));
};
