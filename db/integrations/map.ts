// Other tools' payloads → Herald events. Pure functions (no database): each validates the outside input
// with zod and returns the events to ingest, or the list of what is wrong with it.
//
// PagerDuty Events API v2: https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
// Alertmanager webhook (version 4): https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
// Grafana contact point webhook: https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/
import { z } from 'zod';
import { createHash, randomBytes } from 'node:crypto';
import { SEVERITIES, type Severity } from '../model/levels';
import { EventInputSchema, type EventInput } from '../events/schema';
import type { IntegrationDefaults } from './repo';

/**
 * A timestamp as tools write them → ISO 8601 UTC, or null when it does not parse. Accepts what strict ISO
 * 8601 parsers refuse but PagerDuty's own examples use: `2015-07-17T08:42:58.315+0000` (offset without colon),
 * Go's nanoseconds (`…58.123456789Z`), a space for the `T`, no zone (UTC). Years before 1970 are refused
 * (Alertmanager's "zero" endsAt is year 1; Postgres refuses year 0).
 */
export function parseTimestamp(raw: unknown): string | null {
  if (typeof raw !== 'string' || raw.length > 64) return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/.exec(raw.trim());
  if (!m) return null;
  const [, y, mo, d, hh, mi, ss = '00', frac = '', zone = 'Z'] = m;
  if (Number(y) < 1970) return null;
  let tz = zone.toUpperCase();
  if (tz !== 'Z') tz = tz.length === 3 ? `${tz}:00` : tz.length === 5 ? `${tz.slice(0, 3)}:${tz.slice(3)}` : tz;
  const ms = (frac + '000').slice(0, 3);
  const t = Date.parse(`${y}-${mo}-${d}T${hh}:${mi}:${ss}.${ms}${tz}`);
  if (!Number.isFinite(t)) return null;
  const iso = new Date(t).toISOString();
  return /^\d{4}-/.test(iso) ? iso : null;
}

/** A word from another tool as a Herald slug (`HighCPU Load` → `highcpu_load`), or null. */
export function slugify(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const s = raw.toLowerCase().replace(/[^a-z0-9_.-]+/g, '_').replace(/^[^a-z0-9]+/, '').slice(0, 64);
  return s || null;
}

const COMMON_WORDS: Record<string, Severity> = {
  crit: 'critical', fatal: 'critical', page: 'critical', emergency: 'critical', high: 'error', err: 'error',
  major: 'error', warn: 'warning', medium: 'warning', minor: 'warning', low: 'info', information: 'info', none: 'info', ok: 'info',
};

/** A tool's severity word → Herald's: the integration's map first, then Herald's words, then common synonyms; else the default (warning). */
export function mapSeverity(raw: unknown, d: IntegrationDefaults): Severity {
  if (typeof raw === 'string') {
    const w = raw.trim().toLowerCase();
    const mapped = d.severity_map?.[raw] ?? d.severity_map?.[w];
    if (mapped) return mapped;
    if ((SEVERITIES as readonly string[]).includes(w)) return w as Severity;
    if (COMMON_WORDS[w]) return COMMON_WORDS[w];
  }
  return d.severity ?? 'warning';
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/**
 * Text Postgres can store: no U+0000 and no lone surrogate (text and jsonb refuse both, which would fail the
 * whole grouped commit). Other tools' data is cleaned, not refused: the alert matters more than a stray byte.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function storable(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return v.replace(LONE_SURROGATE, '\uFFFD').replace(/\u0000/g, '');
  if (depth > 64) return null;
  if (Array.isArray(v)) return v.map((x) => storable(x, depth + 1));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[storable(k) as string] = storable(x, depth + 1);
    return out;
  }
  return v;
}

/** The event as Herald's own schema checks it (the mapping must never produce what /v1/events would refuse). */
function finish(raw: Record<string, unknown>, where: string): { event: EventInput } | { error: string } {
  const r = EventInputSchema.safeParse(storable(raw));
  if (r.success) return { event: r.data };
  return { error: `${where}: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ')}` };
}

// ---------------------------------------------------------------- PagerDuty Events API v2

const str = (max: number) => z.string().max(max);

export const PagerDutySchema = z.object({
  routing_key: z.string().min(1, 'is missing or blank').max(200),
  event_action: z.enum(['trigger', 'acknowledge', 'resolve']),
  dedup_key: z.string().trim().min(1, 'is blank').max(255).optional(),
  client: str(1000).optional(),
  client_url: str(2000).optional(),
  payload: z.object({
    summary: z.string().trim().min(1, 'is missing or blank').max(1024),
    source: z.string().trim().min(1, 'is missing or blank').max(255),
    severity: z.enum(['critical', 'error', 'warning', 'info'], { message: 'must be one of critical, error, warning, info' }),
    timestamp: z.string().max(64).optional(),
    component: str(1000).optional(),
    group: str(1000).optional(),
    class: str(1000).optional(),
    custom_details: z.unknown().optional(),
  }).optional(),
  links: z.array(z.object({ href: z.string().max(2000), text: str(1000).optional() })).max(50).optional(),
  images: z.array(z.object({ src: z.string().max(2000), href: str(2000).optional(), alt: str(1000).optional() })).max(50).optional(),
});
export type PagerDutyBody = z.output<typeof PagerDutySchema>;

/** PagerDuty's error strings: `'payload.summary' is missing or blank`. */
export function pagerDutyErrors(body: unknown): { ok: true; value: PagerDutyBody } | { ok: false; errors: string[] } {
  const r = PagerDutySchema.safeParse(storable(body));
  if (!r.success) {
    return { ok: false, errors: r.error.issues.map((i) => {
      const path = i.path.map(String).join('.') || 'event';
      const msg = i.code === 'invalid_type' && /received undefined/.test(i.message) ? 'is missing' : i.message;
      return `'${path}' ${msg}`;
    }) };
  }
  const b = r.data;
  const errors: string[] = [];
  if (b.event_action === 'trigger' && !b.payload) errors.push("'payload' is missing");
  if (b.event_action !== 'trigger' && !b.dedup_key) errors.push(`'dedup_key' is required for ${b.event_action}`);
  if (b.payload?.timestamp !== undefined && !parseTimestamp(b.payload.timestamp)) errors.push(`'payload.timestamp' is not a valid timestamp`);
  return errors.length ? { ok: false, errors } : { ok: true, value: b };
}

/** A trigger or resolve as a Herald event (dedup key generated for a trigger without one, as PagerDuty does). */
export function pagerDutyEvent(b: PagerDutyBody, category: string, d: IntegrationDefaults): { event: EventInput } | { error: string } {
  const p = b.payload;
  const dedupKey = b.dedup_key ?? randomBytes(16).toString('hex');
  const metadata: Record<string, unknown> = {};
  if (p) {
    for (const k of ['component', 'group', 'class', 'custom_details'] as const) if (p[k] !== undefined) metadata[k] = p[k];
    metadata.source = p.source;
  }
  if (b.links?.length) metadata.links = b.links;
  if (b.images?.length) metadata.images = b.images;
  if (b.client) metadata.client = b.client;
  if (b.client_url) metadata.client_url = b.client_url;
  return finish({
    category,
    type: d.type ?? slugify(p?.class) ?? 'alert',
    title: p ? clip(p.summary, 500) : `Resolved ${clip(dedupKey, 480)}`,
    severity: p ? mapSeverity(p.severity, d) : d.severity ?? 'warning',
    body: typeof p?.custom_details === 'string' ? clip(p.custom_details, 20_000) : null,
    source: p ? clip(p.source, 200) : null,
    dedup_key: dedupKey,
    action: b.event_action === 'resolve' ? 'resolve' : 'trigger',
    metadata,
    entity: d.entity_kind && p ? { kind: d.entity_kind, id: clip(p.component || p.source, 200) } : null,
    occurred_at: p?.timestamp ? parseTimestamp(p.timestamp) : null,
  }, 'event');
}

// ---------------------------------------------------------------- Alertmanager and Grafana

/** The most alerts one webhook call may carry (Alertmanager's max_alerts should stay below it). */
export const MAX_ALERTS = 1000;

const labelMap = z.record(z.string().max(1000), z.string({ message: 'label and annotation values must be strings' }).max(20_000));

const AlertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: labelMap,
  annotations: labelMap.default({}),
  startsAt: z.string().max(64).optional(),
  endsAt: z.string().max(64).optional(),
  generatorURL: z.string().max(4000).optional(),
  fingerprint: z.string().min(1).max(200).optional(),
  // Grafana's additions.
  silenceURL: z.string().max(4000).optional(),
  dashboardURL: z.string().max(4000).optional(),
  panelURL: z.string().max(4000).optional(),
  imageURL: z.string().max(4000).optional(),
  values: z.record(z.string().max(200), z.unknown()).nullish(),
  valueString: z.string().max(20_000).optional(),
});

const GroupSchema = z.object({
  version: z.string().max(10).optional(),
  groupKey: z.string().max(10_000).optional(),
  truncatedAlerts: z.number().int().nonnegative().optional(),
  status: z.enum(['firing', 'resolved']).optional(),
  receiver: z.string().max(1000).optional(),
  groupLabels: labelMap.optional(),
  commonLabels: labelMap.optional(),
  commonAnnotations: labelMap.optional(),
  externalURL: z.string().max(4000).optional(),
  alerts: z.array(AlertSchema).min(1, 'carries no alert').max(MAX_ALERTS, `carries more than ${MAX_ALERTS} alerts; lower max_alerts in the receiver`),
  // Grafana's additions.
  title: z.string().max(10_000).optional(),
  state: z.string().max(100).optional(),
  message: z.string().max(100_000).optional(),
  orgId: z.number().optional(),
});
export type AlertGroup = z.output<typeof GroupSchema>;

export function parseAlertGroup(body: unknown, kind: 'alertmanager' | 'grafana'): { ok: true; value: AlertGroup } | { ok: false; errors: Array<{ path: string; message: string }> } {
  const r = GroupSchema.safeParse(storable(body));
  if (!r.success) return { ok: false, errors: r.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message })) };
  if (kind === 'alertmanager' && r.data.version !== undefined && r.data.version !== '4') {
    return { ok: false, errors: [{ path: 'version', message: `Herald reads the Alertmanager webhook payload version 4, not ${r.data.version}` }] };
  }
  return { ok: true, value: r.data };
}

/** A stable key for an alert without a fingerprint: the hash of its sorted labels (what Alertmanager fingerprints). */
function labelsFingerprint(labels: Record<string, string>): string {
  const h = createHash('sha256');
  for (const k of Object.keys(labels).sort()) h.update(`${k}\u0000${labels[k]}\u0001`);
  return h.digest('hex').slice(0, 16);
}

/** One Herald event per alert of the group: the fingerprint as dedup key, `resolved` resolves. */
export function alertGroupEvents(g: AlertGroup, kind: 'alertmanager' | 'grafana', category: string, d: IntegrationDefaults):
  { events: EventInput[]; errors: string[] } {
  const events: EventInput[] = [];
  const errors: string[] = [];
  g.alerts.forEach((a, i) => {
    const name = a.labels.alertname;
    const metadata: Record<string, unknown> = { labels: a.labels, annotations: a.annotations };
    const links: Array<{ href: string; text: string }> = [];
    if (a.generatorURL) { metadata.generator_url = a.generatorURL; links.push({ href: a.generatorURL, text: 'Source' }); }
    if (a.dashboardURL) { metadata.dashboard_url = a.dashboardURL; links.push({ href: a.dashboardURL, text: 'Dashboard' }); }
    if (a.panelURL) { metadata.panel_url = a.panelURL; links.push({ href: a.panelURL, text: 'Panel' }); }
    if (a.silenceURL) { metadata.silence_url = a.silenceURL; links.push({ href: a.silenceURL, text: 'Silence' }); }
    if (a.imageURL) metadata.image_url = a.imageURL;
    if (a.values) metadata.values = a.values;
    if (a.valueString) metadata.value_string = a.valueString;
    if (links.length) metadata.links = links;
    if (g.externalURL) metadata.external_url = g.externalURL;
    if (g.receiver) metadata.receiver = g.receiver;
    if (g.groupKey) metadata.group_key = g.groupKey;
    if (a.startsAt) metadata.starts_at = a.startsAt;
    if (a.endsAt && parseTimestamp(a.endsAt)) metadata.ends_at = a.endsAt;
    const fingerprint = a.fingerprint ?? labelsFingerprint(a.labels);
    const resolved = a.status === 'resolved';
    const r = finish({
      category,
      type: d.type ?? slugify(name) ?? 'alert',
      title: clip(a.annotations.summary?.trim() || name?.trim() || g.title?.trim() || 'Alert', 500),
      severity: mapSeverity(a.labels.severity, d),
      body: a.annotations.description ? clip(a.annotations.description, 20_000) : null,
      source: kind,
      dedup_key: fingerprint,
      action: resolved ? 'resolve' : 'trigger',
      metadata,
      entity: d.entity_kind ? { kind: d.entity_kind, id: clip(a.labels.instance || a.labels.job || fingerprint, 200) } : null,
      occurred_at: parseTimestamp(resolved ? a.endsAt : a.startsAt) ?? parseTimestamp(a.startsAt),
    }, `alerts.${i}`);
    if ('event' in r) events.push(r.event); else errors.push(r.error);
  });
  return { events, errors };
}
