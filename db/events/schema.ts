// The event contract (docs/design.md "POST /v1/events").
import { z } from 'zod';
import { SEVERITIES } from '../model/levels';

const slug = z.string().min(1).max(64).regex(/^[a-z0-9][a-z0-9_.-]*$/, 'use lowercase letters, digits, _ . -');

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
  .strict();

export type EventInput = z.output<typeof EventInputSchema>;

export const EventBatchSchema = z.object({ events: z.array(z.unknown()).min(1).max(1000) }).strict();

export type EventStatus = 'accepted' | 'routed' | 'deduplicated' | 'resolved' | 'suppressed' | 'unrouted';
