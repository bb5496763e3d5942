import type { Task } from './task';
import { addJobs, job } from '../db/jobs/enqueue';
import { closeDigest, dueDigestUsers, loadDigest, recordDigestSend } from '../db/messages/digest';

/**
 * Digests: the crontab's run ({}) finds the people whose period closed and enqueues one keyed job each;
 * {user_id} closes that person's period (nothing is sent for an empty one); {digest_id} sends the email.
 * A temporary SMTP failure throws, so graphile-worker retries the send with backoff.
 */
export const digest__send: Task<'digest__send'> = async (h, p, adapters) => {
  if ('digest_id' in p && typeof p.digest_id === 'number') {
    const loaded = await loadDigest(h, p.digest_id);
    if (!loaded) return;
    const email = adapters.email;
    if (!email.enabled || !email.sendDigest) { await recordDigestSend(h.sql, p.digest_id, { ok: false, error: 'email is not configured' }); return; }
    const r = await email.sendDigest(loaded.user, loaded.digest, { sql: h.sql, config: h.config, key: h.key });
    if (r.outcome === 'sent') await recordDigestSend(h.sql, p.digest_id, { ok: true, providerRef: r.providerRef });
    else if (r.outcome === 'failed_perm') await recordDigestSend(h.sql, p.digest_id, { ok: false, error: r.error });
    else throw new Error(`digest ${p.digest_id}: ${r.error}`);
    return;
  }
  if ('user_id' in p && typeof p.user_id === 'number') {
    await closeDigest(h, p.user_id, adapters.email.reaches);
    return;
  }
  const due = await dueDigestUsers(h.sql);
  await addJobs(h.sql, due.map((user_id) => job('digest__send', { user_id })));
};
