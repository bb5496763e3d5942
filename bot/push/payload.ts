// The web push payload the service worker reads (pwa/src/sw.ts): `{alert, reason, ack_url}`. A push
// message carries at most 4 KB after encryption (RFC 8291: 4096 bytes per record, minus the header, the
// tag and the padding delimiter), so a large alert is slimmed — metadata first, then the body, the SOP
// steps, and at last the title — rather than refused by the push service.
import type { AlertView } from '../../db/model/alert';
import { truncate } from '../wording';

export interface PushPayload {
  alert: AlertView;
  reason: string;
  ack_url: string | null;
}

/** Plaintext budget: 4096 − 86 (salt, record size, key id) − 16 (tag) − 1 (delimiter), with a margin. */
export const MAX_PAYLOAD_BYTES = 3800;

export function reasonText(reason: 'triggered' | 'escalated', level: number): string {
  return reason === 'escalated' ? `Escalated to you (level ${level})` : 'New alert';
}

const size = (p: PushPayload) => Buffer.byteLength(JSON.stringify(p));
const cut = truncate;

export function pushPayload(alert: AlertView, reason: string, ackUrl: string | null): string {
  const p: PushPayload = { alert, reason, ack_url: ackUrl };
  if (size(p) <= MAX_PAYLOAD_BYTES) return JSON.stringify(p);
  const slim: AlertView = { ...alert, metadata: {}, body: alert.body ? cut(alert.body, 200) : null };
  const steps: Array<(a: AlertView) => AlertView> = [
    (a) => a,
    (a) => ({ ...a, entity: a.entity ? { kind: cut(a.entity.kind, 40), id: cut(String(a.entity.id), 80) } : null, source: a.source ? cut(a.source, 80) : null }),
    (a) => ({ ...a, body: null, sop: a.sop ? { title: cut(a.sop.title, 120), steps: [], url: a.sop.url && a.sop.url.length <= 300 ? a.sop.url : null } : null }),
    (a) => ({ ...a, dedup_key: cut(a.dedup_key, 120), rule_ids: a.rule_ids.slice(0, 10), type: cut(a.type, 64), category: cut(a.category, 64) }),
    (a) => ({ ...a, title: cut(a.title, 200) }),
  ];
  let a = slim;
  for (const step of steps) {
    a = step(a);
    const candidate = { ...p, alert: a };
    if (size(candidate) <= MAX_PAYLOAD_BYTES) return JSON.stringify(candidate);
  }
  // Only pathological actor names or URLs get here: send the essentials.
  return JSON.stringify({ ...p, alert: { ...a, acknowledged_by: null, resolved_by: null, url: '' } });
}
