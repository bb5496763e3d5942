// /roles — built-in and custom roles, what each may do (a permission matrix, saved per role); add a role.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../../api';
import { ProblemBox } from '../../components/Problem';
import { useAction, useTitle } from '../../hooks';
import { fetchRoles, type Role } from './shared';
import { PERMISSIONS, PERMISSION_LABELS, type Permission } from '../../../../db/model/permissions';

export default function RolesPage() {
  useTitle('Roles');
  const [roles, setRoles] = useState<Role[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [key, setKey] = useState('');
  const [name, setName] = useState('');
  const { busy, error: createError, run } = useAction();
  const [created, setCreated] = useState<string | null>(null);

  useEffect(() => {
    fetchRoles(true).then(setRoles, setError);
  }, []);

  const saving = useAction();
  async function toggle(role: Role, p: Permission, on: boolean) {
    const permissions = on ? [...role.permissions, p] : role.permissions.filter((x) => x !== p);
    const saved = await saving.run(() => api.patch<Role>(`/v1/roles/${role.key}`, { permissions }));
    if (saved) setRoles((rs) => (rs ?? []).map((r) => (r.key === saved.key ? { ...r, permissions: saved.permissions } : r)));
  }

  async function create(e: Event) {
    e.preventDefault();
    setCreated(null);
    await run(async () => {
      const r = await api.post<Role>('/v1/roles', { key: key.trim(), name: name.trim() });
      setRoles(await fetchRoles(true).catch(() => [...(roles ?? []), r]));
      setCreated(`Role ${name.trim()} was added.`);
      setKey('');
      setName('');
    });
  }

  return (
    <section class="page" aria-labelledby="roles-title">
      <h1 id="roles-title">Roles</h1>
      <ProblemBox error={error} title="Roles could not be loaded" />
      {!roles && !error && (
        <p class="loading" role="status">
          Loading…
        </p>
      )}
      {roles && (
        <div class="table-wrap stack-wrap" tabIndex={0} role="region" aria-label="What each role may do">
          <table class="table matrix stack">
            <thead>
              <tr>
                <th scope="col">Permission</th>
                {roles.map((r) => (
                  <th scope="col" key={r.key}>
                    {r.name}
                    <br />
                    <small>{r.built_in ? 'built-in' : 'custom'}</small>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {PERMISSIONS.map((p) => (
                <tr key={p}>
                  <th scope="row">
                    {PERMISSION_LABELS[p]} <code>{p}</code>
                  </th>
                  {roles.map((r) => (
                    <td key={r.key} data-label={r.name}>
                      <input
                        type="checkbox"
                        aria-label={`${r.name}: ${PERMISSION_LABELS[p]}`}
                        checked={r.permissions.includes(p)}
                        disabled={r.key === 'admin' || saving.busy}
                        onChange={(e) => toggle(r, p, (e.currentTarget as HTMLInputElement).checked)}
                      />
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          <p class="hint">The admin role always has every permission. Changes save at once.</p>
          <ProblemBox error={saving.error} title="The permission was not changed" />
        </div>
      )}
      <section class="panel" aria-labelledby="new-role-title">
        <h2 id="new-role-title">Add a role</h2>
        <form class="form" onSubmit={create}>
          <div class="row">
            <div class="field">
              <label for="role-key">Key</label>
              <input
                id="role-key"
                required
                pattern="[a-z][a-z0-9_]{0,39}"
                aria-describedby="role-key-hint"
                value={key}
                onInput={(e) => setKey((e.currentTarget as HTMLInputElement).value)}
              />
              <p class="hint" id="role-key-hint">
                Lowercase letters, digits and _, e.g. night_shift
              </p>
            </div>
            <div class="field">
              <label for="role-name">Name</label>
              <input id="role-name" required value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
            </div>
          </div>
          <ProblemBox error={createError} title="The role was not added" />
          {created && <p role="status">{created}</p>}
          <button type="submit" class="btn primary" disabled={busy} aria-busy={busy}>
            Add role
          </button>
        </form>
      </section>
    </section>
  );
}
