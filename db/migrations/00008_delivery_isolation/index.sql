-- Idempotency keys belong to their sender: the same Idempotency-Key from two API keys (or users) names two
-- different requests. The hash of the first request's body is kept so that a reuse with another body is
-- refused (422) instead of answered with the first response. Keys stored before this migration have no
-- owner and match no new request (they expire within 25 hours).
alter table idempotency_keys add column owner text not null default '';
alter table idempotency_keys add column request_hash text;
alter table idempotency_keys drop constraint idempotency_keys_pkey;
alter table idempotency_keys add primary key (org_id, owner, key);

-- Per-endpoint circuit breaker for outbound webhooks, shared by every worker process: after
-- `failure_streak` reaches the threshold the endpoint is open until `breaker_open_until` (deliveries are
-- rescheduled without a request); the period doubles each time a trial fails (`breaker_backoff_s`); one
-- success closes it.
alter table webhooks add column failure_streak integer not null default 0;
alter table webhooks add column breaker_open_until timestamptz;
alter table webhooks add column breaker_backoff_s integer;
-- Deliveries waiting for a later attempt (a retry, or kept back by the breaker), found per webhook when its
-- pause ends. Delivered and never-attempted rows have no next_attempt_at, so the hot path never touches it.
create index webhook_deliveries_due on webhook_deliveries (webhook_id, next_attempt_at) where next_attempt_at is not null;
