// The event contract (DESIGN "POST /v1/events").
import { z } from 'zod';
import { SEVERITIES } from '../model/levels';

const slug = z.string().min(1).max(64).regex(/^[a-z0-9][a-z0-9_.-]*$/, 'use lowercase letters, digits, _ . -');

const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const EventInputSchema = z
  .object({
    category: slug,
    type: slug,
    title: z.string().trim().min(1).max(500),
    severity: z.enum(SEVERITIES).default('warning'),
    body: z.string().max(20_000).nullish(),
    source: z.string().max(200).nullish(),
    dedup_key: z.string().min(1).max(255).nullish(),
    action: z.enum(['trigger', 'resolve']).default('trigger'),
    metadata: z.record(z.string(), z.unknown()).default({}),
    entity: z
      .object({ kind: z.string().min(1).max(64), id: z.union([z.string(), z.number()]).transform(String), name: z.string().max(200).optional() })
      .strict()
      .nullish(),
    occurred_at: z.iso.datetime({ offset: true }).nullish(),
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
