// /roles — built-in and custom roles; add a role.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../../api';
import { ProblemBox } from '../../components/Problem';
import { useAction, useTitle } from '../../hooks';
import { fetchRoles, type Role } from './shared';

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
        <table class="table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Key</th>
              <th scope="col">Kind</th>
            </tr>
          </thead>
          <tbody>
            {roles.map((r) => (
              <tr key={r.key}>
                <th scope="row">{r.name}</th>
                <td>
                  <code>{r.key}</code>
                </td>
                <td>{r.built_in ? 'Built-in' : 'Custom'}</td>
              </tr>
            ))}
          </tbody>
        </table>
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
