// /users — list and create people. Roles come from /v1/roles.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../../api';
import { ProblemBox } from '../../components/Problem';
import { useAction, useTitle } from '../../hooks';
import { CHANNEL_LABELS, label, type User } from '../../types';
import { RolePicker, useRoles } from './shared';

const blank = () => ({
  name: '',
  email: '',
  phone: '',
  roles: [] as string[],
  slack_user_id: '',
  discord_user_id: '',
  password: '',
  timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || '',
});

interface PersonReach {
  user_id: number;
  channels: Array<{ channel: string; state: string; text: string }>;
  working: string[];
  push: { subscriptions: number; last_error: string | null };
}

const MISSING: Record<string, string> = { push: 'no subscription', sms: 'no phone', email: 'no address', slack: 'not linked', discord: 'not linked' };
const STATE: Record<string, string> = { not_configured: 'not configured', opted_out: 'opted out (STOP)', failing: 'failing' };

/** "Email, Slack · SMS: no phone · Discord: not configured": what works first, then what does not and why. */
function channelsText(r: PersonReach): string {
  const rest = r.channels.filter((c) => c.channel !== 'in_app' && c.channel !== 'push' && c.state !== 'ok');
  const works = r.working.filter((c) => c !== 'push').map((c) => CHANNEL_LABELS[c] ?? c);
  const parts = [works.length ? works.join(', ') : 'Only in the app'];
  for (const c of rest) parts.push(`${CHANNEL_LABELS[c.channel] ?? c.channel}: ${c.state === 'no_address' ? MISSING[c.channel] ?? 'no address' : STATE[c.state] ?? c.state}`);
  return parts.join(' · ');
}

function pushText(r: PersonReach): string {
  const c = r.channels.find((x) => x.channel === 'push');
  if (c?.state === 'not_configured') return 'Not configured';
  if (!r.push.subscriptions) return 'Off (no device)';
  if (r.push.last_error) return `Failing: ${r.push.last_error}`;
  return `On (${r.push.subscriptions} device${r.push.subscriptions === 1 ? '' : 's'})`;
}

export default function UsersPage() {
  useTitle('Users');
  const [users, setUsers] = useState<User[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [form, setForm] = useState(blank);
  const { busy, error: createError, run } = useAction();
  const [created, setCreated] = useState<string | null>(null);
  const { roles } = useRoles();

  const [reach, setReach] = useState<Record<number, PersonReach>>({});
  useEffect(() => {
    api.get<{ items: User[] }>('/v1/users').then((r) => setUsers(r.items), setError);
    api.get<{ items: PersonReach[] }>('/v1/reachability').then((r) => setReach(Object.fromEntries(r.items.map((p) => [p.user_id, p]))), () => undefined);
  }, []);

  const set = (k: keyof ReturnType<typeof blank>) => (e: Event) => setForm((f) => ({ ...f, [k]: (e.currentTarget as HTMLInputElement).value }));

  async function create(e: Event) {
    e.preventDefault();
    setCreated(null);
    const body: Record<string, unknown> = { name: form.name.trim(), email: form.email.trim(), roles: form.roles };
    for (const k of ['phone', 'slack_user_id', 'discord_user_id', 'timezone'] as const) if (form[k].trim()) body[k] = form[k].trim();
    if (form.password) body.password = form.password;
    await run(async () => {
      const u = await api.post<User>('/v1/users', body);
      setUsers((us) => [...(us ?? []), u]);
      setCreated(`${u.name ?? body.name} was added.`);
      setForm(blank());
    });
  }

  return (
    <section class="page" aria-labelledby="users-title">
      <h1 id="users-title">Users</h1>
      <ProblemBox error={error} title="Users could not be loaded" />
      {!users && !error && (
        <p class="loading" role="status">
          Loading…
        </p>
      )}
      {users && (
        <div class="table-wrap stack-wrap" tabIndex={0} role="region" aria-label="Users table">
          <table class="table stack">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Phone</th>
                <th scope="col">Roles</th>
                <th scope="col">Channels</th>
                <th scope="col">Push</th>
              </tr>
            </thead>
            <tbody>
              {users.map((u) => (
                <tr key={u.id}>
                  <th scope="row">{u.name}</th>
                  <td data-label="Email">{u.email}</td>
                  <td data-label="Phone">{u.phone ?? ''}</td>
                  <td data-label="Roles">{(u.roles ?? []).map(label).join(', ')}</td>
                  <td data-label="Channels">{reach[u.id] ? channelsText(reach[u.id]) : ''}</td>
                  <td data-label="Push">{reach[u.id] ? pushText(reach[u.id]) : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <section class="panel" aria-labelledby="new-user-title">
        <h2 id="new-user-title">Add a user</h2>
        <form class="form" onSubmit={create}>
          <div class="row">
            <div class="field">
              <label for="u-name">Name</label>
              <input id="u-name" required autocomplete="off" value={form.name} onInput={set('name')} />
            </div>
            <div class="field">
              <label for="u-email">Email</label>
              <input id="u-email" type="email" required autocomplete="off" value={form.email} onInput={set('email')} />
            </div>
          </div>
          <div class="row">
            <div class="field">
              <label for="u-phone">Phone</label>
              <input id="u-phone" type="tel" autocomplete="off" value={form.phone} onInput={set('phone')} />
            </div>
            <div class="field">
              <label for="u-tz">Timezone</label>
              <input id="u-tz" value={form.timezone} onInput={set('timezone')} />
            </div>
          </div>
          <div class="field">
            <label for="u-password">Password for the app</label>
            <input id="u-password" type="password" minLength={8} autocomplete="new-password" aria-describedby="u-password-hint" value={form.password} onInput={set('password')} />
            <p id="u-password-hint" class="hint">At least 8 characters. Leave empty for people who only get Slack, SMS or email.</p>
          </div>
          <RolePicker legend="Roles" idPrefix="u-role" roles={roles} value={form.roles} onChange={(v) => setForm((f) => ({ ...f, roles: v }))} />
          <div class="row">
            <div class="field">
              <label for="u-slack">Slack user ID</label>
              <input id="u-slack" value={form.slack_user_id} onInput={set('slack_user_id')} />
            </div>
            <div class="field">
              <label for="u-discord">Discord user ID</label>
              <input id="u-discord" value={form.discord_user_id} onInput={set('discord_user_id')} />
            </div>
          </div>
          <ProblemBox error={createError} title="The user was not added" />
          {created && <p role="status">{created}</p>}
          <button type="submit" class="btn primary" disabled={busy} aria-busy={busy}>
            Add user
          </button>
        </form>
      </section>
    </section>
  );
}
