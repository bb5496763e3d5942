// /rules/new and /rules/:id — the rule editor. Each field maps onto the rule JSON; the preview sentence
// comes from the server (POST /v1/rules/preview, debounced) so it always says what the engine will do,
// and a validation problem is shown in place of the sentence while the rule is invalid.
import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../../api';
import { ProblemBox } from '../../components/Problem';
import { useDebounced, useTitle } from '../../hooks';
import { Link, navigate } from '../../router';
import { CHANNEL_LABELS, CHANNELS, PRIORITIES, SEVERITIES, label } from '../../types';
import { RolePicker, useRoles, type Rule, type RuleBody } from './shared';

interface StepDraft {
  after_minutes: string;
  roles: string[];
  users: string;
}

interface Draft {
  name: string;
  enabled: boolean;
  position: string;
  continue: boolean;
  category: string;
  type: string;
  min_severity: string;
  conditions: string;
  roles: string[];
  users: string;
  channels: string[];
  priority: string;
  steps: StepDraft[];
  repeat: string;
  slack_channel: string;
  discord_channel: string;
  sop_title: string;
  sop_steps: string;
  sop_url: string;
}

const EMPTY: Draft = {
  name: '',
  enabled: true,
  position: '100',
  continue: false,
  category: '',
  type: '',
  min_severity: 'warning',
  conditions: '[]',
  roles: [],
  users: '',
  channels: ['in_app'],
  priority: 'normal',
  steps: [],
  repeat: '0',
  slack_channel: '',
  discord_channel: '',
  sop_title: '',
  sop_steps: '',
  sop_url: '',
};

const ids = (s: string) =>
  s
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(Number);
const num = (s: string) => (s.trim() === '' ? NaN : Number(s));

function fromRule(r: Rule): Draft {
  return {
    name: r.name,
    enabled: r.enabled,
    position: String(r.position ?? 100),
    continue: !!r.continue,
    category: r.match.category,
    type: r.match.type ?? '',
    min_severity: r.match.min_severity ?? 'info',
    conditions: JSON.stringify(r.match.conditions ?? [], null, 2),
    roles: r.targets?.roles ?? [],
    users: (r.targets?.users ?? []).join(', '),
    channels: r.channels ?? [],
    priority: r.priority,
    steps: (r.escalation?.steps ?? []).map((s) => ({ after_minutes: String(s.after_minutes), roles: s.roles ?? [], users: (s.users ?? []).join(', ') })),
    repeat: String(r.escalation?.repeat ?? 0),
    slack_channel: r.slack_channel ?? '',
    discord_channel: r.discord_channel ?? '',
    sop_title: r.sop?.title ?? '',
    sop_steps: (r.sop?.steps ?? []).join('\n'),
    sop_url: r.sop?.url ?? '',
  };
}

/** The rule JSON for a draft, or the reason it cannot be built (bad JSON in the conditions box). */
function toRule(d: Draft): { rule: RuleBody; error: null } | { rule: null; error: string } {
  let conditions: RuleBody['match']['conditions'];
  try {
    conditions = d.conditions.trim() ? JSON.parse(d.conditions) : [];
  } catch (e) {
    return { rule: null, error: `Conditions are not valid JSON: ${(e as Error).message}` };
  }
  const sopSteps = d.sop_steps
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);
  const hasSop = d.sop_title.trim() || sopSteps.length || d.sop_url.trim();
  return {
    error: null,
    rule: {
      name: d.name,
      enabled: d.enabled,
      position: num(d.position),
      continue: d.continue,
      match: { category: d.category.trim(), type: d.type.trim() || null, min_severity: d.min_severity, conditions },
      targets: { roles: d.roles, users: ids(d.users) },
      channels: d.channels,
      priority: d.priority,
      escalation: {
        steps: d.steps.map((s) => ({ after_minutes: num(s.after_minutes), roles: s.roles, users: ids(s.users) })),
        repeat: num(d.repeat),
      },
      slack_channel: d.slack_channel.trim() || null,
      discord_channel: d.discord_channel.trim() || null,
      sop: hasSop ? { title: d.sop_title.trim(), steps: sopSteps, url: d.sop_url.trim() || null } : null,
    },
  };
}

function Field({ id, label: text, hint, children }: { id: string; label: string; hint?: string; children: ComponentChildren }) {
  return (
    <div class="field">
      <label for={id}>{text}</label>
      {children}
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
    </div>
  );
}

const val = (e: Event) => (e.currentTarget as HTMLInputElement).value;
const checked = (e: Event) => (e.currentTarget as HTMLInputElement).checked;

export default function RuleEditorPage({ id }: { id: string | null }) {
  const isNew = id === null;
  useTitle(isNew ? 'New rule' : 'Edit rule');
  const [draft, setDraft] = useState<Draft | null>(isNew ? EMPTY : null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const [previewError, setPreviewError] = useState<unknown>(null);
  const [saveError, setSaveError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  const { roles } = useRoles();
  const seq = useRef(0);

  useEffect(() => {
    if (isNew) return;
    api.get<{ items: Rule[] }>('/v1/rules').then((r) => {
      const rule = r.items.find((x) => String(x.id) === id);
      if (rule) {
        setDraft(fromRule(rule));
        setPreview(rule.preview);
      } else setLoadError(new ApiError({ title: 'No such rule', status: 404, detail: `There is no rule ${id}.` }));
    }, setLoadError);
  }, [id]);

  const built = useMemo(() => (draft ? toRule(draft) : null), [draft]);
  const debounced = useDebounced(built, 350);

  useEffect(() => {
    if (!debounced || draft === EMPTY) return; // a blank new rule: nothing to preview yet
    if (debounced.error !== null) {
      setPreviewError(new Error(debounced.error));
      return;
    }
    const mine = ++seq.current;
    const ctl = new AbortController();
    api
      .post<{ preview: string }>('/v1/rules/preview', { rule: debounced.rule }, { signal: ctl.signal })
      .then((r) => {
        if (mine !== seq.current) return;
        setPreview(r.preview);
        setPreviewError(null);
      })
      .catch((e) => {
        if (mine !== seq.current || (e as Error)?.name === 'AbortError') return;
        setPreviewError(e);
      });
    return () => ctl.abort();
  }, [debounced]);

  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => setDraft((d) => d && { ...d, [k]: v });
  const setStep = (i: number, patch: Partial<StepDraft>) =>
    setDraft((d) => d && { ...d, steps: d.steps.map((s, j) => (j === i ? { ...s, ...patch } : s)) });

  async function save(e: Event) {
    e.preventDefault();
    if (!built) return;
    if (built.error !== null) {
      setSaveError(new Error(built.error));
      return;
    }
    setSaving(true);
    setSaveError(null);
    setSaved(null);
    try {
      if (isNew) {
        const r = await api.post<Rule>('/v1/rules', built.rule);
        navigate(r && typeof r.id === 'number' ? `/rules/${r.id}` : '/rules', { replace: true });
        setSaved('Rule created.');
      } else {
        const r = await api.patch<Rule>(`/v1/rules/${id}`, built.rule);
        if (r?.preview) setPreview(r.preview);
        setSaved('Rule saved.');
      }
    } catch (err) {
      setSaveError(err);
    } finally {
      setSaving(false);
    }
  }

  if (loadError) {
    return (
      <section class="page">
        <h1>Edit rule</h1>
        <ProblemBox error={loadError} />
        <Link href="/rules">Back to rules</Link>
      </section>
    );
  }
  if (!draft) {
    return (
      <section class="page">
        <h1>Edit rule</h1>
        <p class="loading" role="status">
          Loading…
        </p>
      </section>
    );
  }

  return (
    <section class="page" aria-labelledby="editor-title">
      <p class="back">
        <Link href="/rules">← Rules</Link>
      </p>
      <h1 id="editor-title">{isNew ? 'New rule' : `Edit: ${draft.name || 'rule'}`}</h1>

      <div class="preview-box" aria-live="polite" aria-atomic="true">
        <h2 class="preview-label">Preview</h2>
        {previewError ? (
          <ProblemBox error={previewError} title="This rule is not valid yet" polite />
        ) : (
          <p class="preview">{preview ?? 'Fill in the rule to see what it will do.'}</p>
        )}
      </div>

      <form class="form rule-form" onSubmit={save}>
        <Field id="r-name" label="Name">
          <input id="r-name" required value={draft.name} onInput={(e) => set('name', val(e))} />
        </Field>
        <div class="row">
          <Field id="r-category" label="Category" hint="finance, sales, production, system, …">
            <input id="r-category" required list="r-categories" value={draft.category} onInput={(e) => set('category', val(e))} aria-describedby="r-category-hint" />
            <datalist id="r-categories">
              <option value="finance" />
              <option value="sales" />
              <option value="production" />
              <option value="system" />
            </datalist>
          </Field>
          <Field id="r-type" label="Type" hint="Empty matches every type">
            <input id="r-type" value={draft.type} onInput={(e) => set('type', val(e))} aria-describedby="r-type-hint" />
          </Field>
        </div>
        <div class="row">
          <Field id="r-sev" label="Min severity">
            <select id="r-sev" value={draft.min_severity} onChange={(e) => set('min_severity', val(e))}>
              {SEVERITIES.map((s) => (
                <option key={s} value={s}>
                  {label(s)}
                </option>
              ))}
            </select>
          </Field>
          <Field id="r-priority" label="Priority">
            <select id="r-priority" value={draft.priority} onChange={(e) => set('priority', val(e))}>
              {PRIORITIES.map((s) => (
                <option key={s} value={s}>
                  {label(s)}
                </option>
              ))}
            </select>
          </Field>
          <Field id="r-position" label="Position" hint="Rules run in this order">
            <input id="r-position" type="number" inputMode="numeric" min={0} value={draft.position} onInput={(e) => set('position', val(e))} aria-describedby="r-position-hint" />
          </Field>
        </div>
        <Field id="r-conditions" label="Conditions (JSON)" hint='e.g. [{"field": "metadata.amount", "op": "gte", "value": 10000}]'>
          <textarea id="r-conditions" rows={3} spellcheck={false} class="mono" value={draft.conditions} onInput={(e) => set('conditions', val(e))} aria-describedby="r-conditions-hint" />
        </Field>

        <RolePicker legend="Target roles" idPrefix="r-target" roles={roles} value={draft.roles} onChange={(v) => set('roles', v)} />
        <Field id="r-users" label="Target user ids" hint="Comma-separated, optional">
          <input id="r-users" inputMode="numeric" value={draft.users} onInput={(e) => set('users', val(e))} aria-describedby="r-users-hint" />
        </Field>

        <fieldset class="checks">
          <legend>Channels</legend>
          {CHANNELS.map((c) => (
            <label key={c} class="check" for={`r-ch-${c}`}>
              <input
                id={`r-ch-${c}`}
                type="checkbox"
                checked={draft.channels.includes(c)}
                onChange={(e) => set('channels', checked(e) ? [...draft.channels, c] : draft.channels.filter((x) => x !== c))}
              />
              {CHANNEL_LABELS[c]}
            </label>
          ))}
        </fieldset>
        <div class="row">
          <Field id="r-slack" label="Slack channel" hint="Optional shared channel">
            <input id="r-slack" value={draft.slack_channel} onInput={(e) => set('slack_channel', val(e))} aria-describedby="r-slack-hint" />
          </Field>
          <Field id="r-discord" label="Discord channel" hint="Optional shared channel id">
            <input id="r-discord" value={draft.discord_channel} onInput={(e) => set('discord_channel', val(e))} aria-describedby="r-discord-hint" />
          </Field>
        </div>

        <fieldset class="group">
          <legend>Escalation steps</legend>
          {draft.steps.length === 0 && <p class="hint">No escalation: the alert stays with its first recipients.</p>}
          {draft.steps.map((s, i) => (
            <fieldset key={i} class="step">
              <legend>Step {i + 1}</legend>
              <Field id={`r-step-${i}-min`} label={`Step ${i + 1}: after minutes`}>
                <input
                  id={`r-step-${i}-min`}
                  type="number"
                  inputMode="decimal"
                  min={0}
                  step="any"
                  value={s.after_minutes}
                  onInput={(e) => setStep(i, { after_minutes: val(e) })}
                />
              </Field>
              <RolePicker legend={`Step ${i + 1}: roles`} idPrefix={`r-step-${i}-role`} roles={roles} value={s.roles} onChange={(v) => setStep(i, { roles: v })} />
              <Field id={`r-step-${i}-users`} label={`Step ${i + 1}: user ids`}>
                <input id={`r-step-${i}-users`} inputMode="numeric" value={s.users} onInput={(e) => setStep(i, { users: val(e) })} />
              </Field>
              <button type="button" class="btn small ghost" onClick={() => set('steps', draft.steps.filter((_, j) => j !== i))}>
                Remove step {i + 1}
              </button>
            </fieldset>
          ))}
          <button
            type="button"
            class="btn small"
            onClick={() => {
              const last = draft.steps[draft.steps.length - 1];
              const next = last ? String((Number(last.after_minutes) || 0) * 2 || 60) : '60';
              set('steps', [...draft.steps, { after_minutes: next, roles: [], users: '' }]);
            }}
          >
            Add escalation step
          </button>
          <Field id="r-repeat" label="Repeat escalation" hint="Times to run the steps again (0–10)">
            <input id="r-repeat" type="number" inputMode="numeric" min={0} max={10} value={draft.repeat} onInput={(e) => set('repeat', val(e))} aria-describedby="r-repeat-hint" />
          </Field>
        </fieldset>

        <fieldset class="group">
          <legend>SOP</legend>
          <Field id="r-sop-title" label="SOP title">
            <input id="r-sop-title" value={draft.sop_title} onInput={(e) => set('sop_title', val(e))} />
          </Field>
          <Field id="r-sop-steps" label="SOP steps" hint="One step per line">
            <textarea id="r-sop-steps" rows={4} value={draft.sop_steps} onInput={(e) => set('sop_steps', val(e))} aria-describedby="r-sop-steps-hint" />
          </Field>
          <Field id="r-sop-url" label="SOP link">
            <input id="r-sop-url" type="url" inputMode="url" value={draft.sop_url} onInput={(e) => set('sop_url', val(e))} />
          </Field>
        </fieldset>

        <div class="row checks-row">
          <label class="check" for="r-enabled">
            <input id="r-enabled" type="checkbox" checked={draft.enabled} onChange={(e) => set('enabled', checked(e))} />
            Enabled
          </label>
          <label class="check" for="r-continue">
            <input id="r-continue" type="checkbox" checked={draft.continue} onChange={(e) => set('continue', checked(e))} />
            Continue to later rules after a match
          </label>
        </div>

        <ProblemBox error={saveError} title="The rule was not saved" />
        {saved && <p role="status">{saved}</p>}
        <div class="actions">
          <button type="submit" class="btn primary" disabled={saving} aria-busy={saving}>
            {isNew ? 'Create rule' : 'Save rule'}
          </button>
          <Link href="/rules" class="btn ghost">
            Cancel
          </Link>
        </div>
      </form>
    </section>
  );
}
