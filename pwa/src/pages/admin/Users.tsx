// /users — list, create, edit and deactivate people; import them from a file (live progress, failed rows to
// download and retry) and export them. Roles come from /v1/roles.
import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../../api';
import { ProblemBox } from '../../components/Problem';
import { useAction, useTitle } from '../../hooks';
import { CHANNEL_LABELS, label, type User } from '../../types';
import { RolePicker, useRoles } from './shared';
import { ImportPanel } from './ImportPanel';

/** Edit one person in place (PATCH /v1/users/:id with the fields changed). */
function EditUser({ user, onSaved, onCancel }: { user: User; onSaved: (u: User) => void; onCancel: () => void }) {
  const [f, setF] = useState({ name: user.name, email: user.email, phone: user.phone ?? '', timezone: user.timezone ?? '', roles: user.roles ?? [] });
  const { busy, error, run } = useAction();
  const { roles } = useRoles();
  const set = (k: 'name' | 'email' | 'phone' | 'timezone') => (e: Event) => setF((x) => ({ ...x, [k]: (e.currentTarget as HTMLInputElement).value }));
  const save = (e: Event) => {
    e.preventDefault();
    run(async () => {
      const body: Record<string, unknown> = { name: f.name.trim(), email: f.email.trim(), roles: f.roles, phone: f.phone.trim() || null };
      if (f.timezone.trim()) body.timezone = f.timezone.trim();
      onSaved(await api.patch<User>(`/v1/users/${user.id}`, body));
    });
  };
  const id = `edit-${user.id}`;
  return (
    <form class="form" onSubmit={save} aria-label={`Edit ${user.name}`}>
      <div class="row">
        <div class="field">
          <label for={`${id}-name`}>Name</label>
          <input id={`${id}-name`} required value={f.name} onInput={set('name')} />
        </div>
        <div class="field">
          <label for={`${id}-email`}>Email</label>
          <input id={`${id}-email`} type="email" required value={f.email} onInput={set('email')} />
        </div>
      </div>
      <div class="row">
        <div class="field">
          <label for={`${id}-phone`}>Phone</label>
          <input id={`${id}-phone`} type="tel" value={f.phone} onInput={set('phone')} />
        </div>
        <div class="field">
          <label for={`${id}-tz`}>Timezone</label>
          <input id={`${id}-tz`} value={f.timezone} onInput={set('timezone')} />
        </div>
      </div>
      <RolePicker legend="Roles" idPrefix={`${id}-role`} roles={roles} value={f.roles} onChange={(v) => setF((x) => ({ ...x, roles: v }))} />
      <ProblemBox error={error} title="The changes were not saved" />
      <div class="toolbar">
        <button type="submit" class="btn primary" disabled={busy} aria-busy={busy}>
          Save
        </button>
        <button type="button" class="btn" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

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
  const [editing, setEditing] = useState<number | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const { busy: rowBusy, error: rowError, run: runRow } = useAction();

  const [reach, setReach] = useState<Record<number, PersonReach>>({});
  const load = () => api.get<{ items: User[] }>('/v1/users').then((r) => setUsers(r.items), setError);
  useEffect(() => {
    load();
    api.get<{ items: PersonReach[] }>('/v1/reachability').then((r) => setReach(Object.fromEntries(r.items.map((p) => [p.user_id, p]))), () => undefined);
  }, []);

  const deactivate = (u: User) =>
    runRow(async () => {
      if (!confirm(`Deactivate ${u.name}? They can no longer sign in or be notified; their history stays.`)) return;
      await api.del(`/v1/users/${u.id}`);
      setUsers((us) => (us ?? []).filter((x) => x.id !== u.id));
      setStatus(`${u.name} was deactivated.`);
    });

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
      <div class="page-head">
        <h1 id="users-title">Users</h1>
        <a class="btn small" href="/v1/users/export?format=csv" download="users.csv">
          Export CSV
        </a>
      </div>
      <ProblemBox error={error} title="Users could not be loaded" />
      <ProblemBox error={rowError} title="That did not work" />
      {status && <p role="status">{status}</p>}
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
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {users.map((u) => (
                <Fragment key={u.id}>
                  <tr>
                    <th scope="row">{u.name}</th>
                    <td data-label="Email">{u.email}</td>
                    <td data-label="Phone">{u.phone ?? ''}</td>
                    <td data-label="Roles">{(u.roles ?? []).map(label).join(', ')}</td>
                    <td data-label="Channels">{reach[u.id] ? channelsText(reach[u.id]) : ''}</td>
                    <td data-label="Push">{reach[u.id] ? pushText(reach[u.id]) : ''}</td>
                    <td class="actions">
                      <button type="button" class="btn small" aria-expanded={editing === u.id} aria-label={`Edit ${u.name}`} onClick={() => setEditing(editing === u.id ? null : u.id)}>
                        Edit
                      </button>
                      <button type="button" class="btn small danger" disabled={rowBusy} aria-label={`Deactivate ${u.name}`} onClick={() => deactivate(u)}>
                        Deactivate
                      </button>
                    </td>
                  </tr>
                  {editing === u.id && (
                    <tr>
                      <td colSpan={7}>
                        <EditUser
                          user={u}
                          onCancel={() => setEditing(null)}
                          onSaved={(saved) => {
                            setUsers((us) => (us ?? []).map((x) => (x.id === saved.id ? saved : x)));
                            setEditing(null);
                            setStatus(`${saved.name} was saved.`);
                          }}
                        />
                      </td>
                    </tr>
                  )}
                </Fragment>
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
      <ImportPanel kind="users" onImported={load} />
    </section>
  );
}
