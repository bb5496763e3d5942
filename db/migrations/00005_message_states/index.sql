-- Message states are declared once (db/model/delivery.ts); the database refuses any other.
alter table messages add constraint messages_status_known
  check (status in ('pending', 'held', 'failed_temp', 'sent', 'delivered', 'failed'));
comment on column messages.status is
  'pending -> sent -> delivered | failed; failed_temp retries; held waits for a bundle text (db/model/delivery.ts)';
