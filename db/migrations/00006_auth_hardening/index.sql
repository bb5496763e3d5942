-- Sign-in hardening (issue 14, "Sign-in"). Every attempt is reserved here, under an advisory lock per account
-- and per address, before the password is checked: concurrent attempts beyond a limit are refused without
-- hashing. A row is `pending` while its password is being checked and `failed` after; a successful attempt
-- deletes its row (and the account's earlier failures).
create table login_attempts (
  id bigint generated always as identity primary key,
  email text not null,
  address text not null,
  at timestamptz not null default now(),
  outcome text not null default 'pending' check (outcome in ('pending', 'failed'))
);
create index login_attempts_email_at on login_attempts (email, at);
create index login_attempts_address_at on login_attempts (address, at);
create index login_attempts_at on login_attempts (at);

-- Accounts that signed in successfully from an address: the per-address limit does not apply to them there,
-- so failures of other accounts behind the same address (a NAT, a proxy) never lock them out.
create table login_known_addresses (
  email text not null,
  address text not null,
  last_at timestamptz not null default now(),
  primary key (email, address)
);

-- Only http(s) SOP links are stored from now on; links stored before that are dropped.
update rules set sop = jsonb_set(sop, '{url}', 'null'::jsonb)
  where sop is not null and jsonb_typeof(sop -> 'url') = 'string' and sop ->> 'url' !~* '^https?://';
update alerts set sop = jsonb_set(sop, '{url}', 'null'::jsonb)
  where sop is not null and jsonb_typeof(sop -> 'url') = 'string' and sop ->> 'url' !~* '^https?://';
