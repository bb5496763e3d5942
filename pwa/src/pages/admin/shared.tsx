// Pieces the admin pages share: rule and role shapes, the role list, a role checkbox group.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../../api';
import { label } from '../../types';

export interface Role {
  key: string;
  name: string;
  built_in: boolean;
  permissions: string[];
}

export interface RuleBody {
  name: string;
  enabled: boolean;
  position: number;
  continue: boolean;
  match: {
    category: string;
    type: string | null;
    min_severity: string;
    conditions: Array<{ field: string; op: string; value?: unknown }>;
  };
  targets: { roles: string[]; users: number[] };
  channels: string[];
  priority: string;
  escalation: { steps: Array<{ after_minutes: number; roles: string[]; users: number[] }>; repeat: number };
  slack_channel: string | null;
  discord_channel: string | null;
  sop: { title: string; steps: string[]; url: string | null } | null;
}

export interface Rule extends RuleBody {
  id: number;
  preview: string;
}

let rolesCache: Promise<Role[]> | null = null;
export function fetchRoles(fresh = false): Promise<Role[]> {
  if (fresh || !rolesCache) {
    rolesCache = api.get<{ items: Role[] }>('/v1/roles').then(
      (r) => r.items,
      (e) => {
        rolesCache = null;
        throw e;
      },
    );
  }
  return rolesCache;
}

export function useRoles(): { roles: Role[] | null; error: unknown } {
  const [roles, setRoles] = useState<Role[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    fetchRoles().then(setRoles, setError);
  }, []);
  return { roles, error };
}

/** A fieldset of role checkboxes (keys not in the list, e.g. from an imported rule, stay visible). */
export function RolePicker({
  legend,
  value,
  onChange,
  roles,
  idPrefix,
}: {
  legend: string;
  value: string[];
  onChange: (v: string[]) => void;
  roles: Role[] | null;
  idPrefix: string;
}) {
  const keys = [...new Set([...(roles ?? []).map((r) => r.key), ...value])];
  const name = (k: string) => roles?.find((r) => r.key === k)?.name ?? label(k);
  return (
    <fieldset class="checks">
      <legend>{legend}</legend>
      {keys.length === 0 && <p class="hint">No roles yet.</p>}
      {keys.map((k) => (
        <label key={k} class="check" for={`${idPrefix}-${k}`}>
          <input
            id={`${idPrefix}-${k}`}
            type="checkbox"
            checked={value.includes(k)}
            onChange={(e) => {
              const on = (e.currentTarget as HTMLInputElement).checked;
              onChange(on ? [...value, k] : value.filter((x) => x !== k));
            }}
          />
          {name(k)}
        </label>
      ))}
    </fieldset>
  );
}

