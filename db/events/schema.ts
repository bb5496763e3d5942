// The event contract (docs/design.md "POST /v1/events").
import { z } from 'zod';
import { SEVERITIES } from '../model/levels';
import { instant, jsonObject, text } from '../platform/input';

const slug = text().min(1).max(64).regex(/^[a-z0-9][a-z0-9_.-]*$/, 'use lowercase letters, digits, _ . -');

const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const EventInputSchema = z
  .object({
    category: slug,
    type: slug,
    title: text().trim().min(1).max(500),
    severity: z.enum(SEVERITIES).default('warning'),
    body: text().max(20_000).nullish(),
    source: text().max(200).nullish(),
    dedup_key: text().min(1).max(255).nullish(),
    action: z.enum(['trigger', 'resolve']).default('trigger'),
    // Any JSON object: every key and string clean, at most 32 levels deep and 64 K characters (platform/input).
    metadata: jsonObject().default({}),
    entity: z
      .object({
        kind: text().min(1).max(64),
        id: z.union([text().max(255), z.number()]).transform(String),
        name: text().max(200).optional(),
      })
      .strict()
      .nullish(),
    occurred_at: instant().nullish(),
  })
  .strict()
  .superRefine((e, ctx) => {
    // Postgres text and jsonb cannot hold U+0000 or a lone UTF-16 surrogate: refused here, by field, rather than
    // failing the grouped commit (which would fail every request flushed with this one).
    const walk = (v: unknown, path: Array<string | number>, depth: number) => {
      if (typeof v === 'string') {
        if (UNSTORABLE.test(v)) ctx.addIssue({ code: 'custom', path, message: 'text cannot contain U+0000 or an unpaired surrogate' });
      } else if (depth > 100) {
        ctx.addIssue({ code: 'custom', path, message: 'nested too deeply' });
      } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i], depth + 1));
      else if (v && typeof v === 'object')
        for (const [k, x] of Object.entries(v)) {
          if (UNSTORABLE.test(k)) ctx.addIssue({ code: 'custom', path, message: 'a key cannot contain U+0000 or an unpaired surrogate' });
          walk(x, [...path, k], depth + 1);
        }
    };
    walk(e, [], 0);
  });

export type EventInput = z.output<typeof EventInputSchema>;

export const EventBatchSchema = z.object({ events: z.array(z.unknown()).min(1).max(1000) }).strict();

export type EventStatus = 'accepted' | 'routed' | 'deduplicated' | 'resolved' | 'suppressed' | 'unrouted';
