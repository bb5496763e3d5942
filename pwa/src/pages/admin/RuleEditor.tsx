// /rules/new and /rules/:id — the rule editor, without JSON: conditions as field / operator / value rows (the
// fields seen in recent events offered), people picked by name, escalation steps "N minutes|hours after the
// alert opened", channels that are not configured marked as such. The preview sentence comes from the server
// (POST /v1/rules/preview, debounced) so it says what the engine will do; while the rule is not valid, each
// problem is said once, in plain words, next to its field. On a phone the preview is one line (tap for all)
// and never covers the field being typed. /rules/new?from_event=<id> starts from an unrouted event.
import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../../api';
import { ProblemBox } from '../../components/Problem';
import { useDebounced, useTitle } from '../../hooks';
import { Link, navigate, useRoute } from '../../router';
import { CHANNEL_LABELS, CHANNELS, PRIORITIES, SEVERITIES, label } from '../../types';
import type { EventView } from '../Alerts';
import { EMPTY, OP_WORDS, fieldsOf, fromRule, localErrors, serverErrors, toRule, type CondDraft, type Draft, type Errors, type StepDraft } from './rule-form';
import { RolePicker, useRoles, type Rule } from './shared';

interface Person { id: number; name: string }

function Field({ id, label: text, hint, error, children }: { id: string; label: string; hint?: string; error?: string; children: ComponentChildren }) {
  return (
    <div class="field">
      <label for={id}>{text}</label>
      {children}
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      <FieldError id={id} error={error} />
    </div>
  );
}

function FieldError({ id, error }: { id: string; error?: string }) {
  if (!error) return null;
  return (
    <p class="field-error" id={`${id}-err`}>
      {error}
    </p>
  );
}

/** aria-invalid + the hint and error as the description. */
const described = (id: string, errors: Errors, hint = false) => ({
  'aria-invalid': errors[id] ? ('true' as const) : undefined,
  'aria-describedby': [hint ? `${id}-hint` : '', errors[id] ? `${id}-err` : ''].filter(Boolean).join(' ') || undefined,
});

function PeoplePicker({ legend, id, people, value, onChange, error }: { legend: string; id: string; people: Person[] | null; value: number[]; onChange: (v: number[]) => void; error?: string }) {
  const known = people ?? [];
  const extra = value.filter((v) => !known.some((p) => p.id === v)).map((v) => ({ id: v, name: `Person #${v}` }));
  const all = [...known, ...extra];
  return (
    <fieldset class="checks" id={id} aria-describedby={error ? `${id}-err` : undefined}>
      <legend>{legend}</legend>
      {all.length === 0 && <p class="hint">{people ? 'No people yet.' : 'Loading people…'}</p>}
      {all.map((p) => (
        <label key={p.id} class="check" for={`${id}-${p.id}`}>
          <input
            id={`${id}-${p.id}`}
            type="checkbox"
            checked={value.includes(p.id)}
            onChange={(e) => onChange((e.currentTarget as HTMLInputElement).checked ? [...value, p.id] : value.filter((x) => x !== p.id))}
          />
          {p.name}
        </label>
      ))}
      <FieldError id={id} error={error} />
    </fieldset>
  );
}

const val = (e: Event) => (e.currentTarget as HTMLInputElement).value;
const checked = (e: Event) => (e.currentTarget as HTMLInputElement).checked;
const wide = () => typeof matchMedia === 'function' && matchMedia('(min-width: 700px)').matches;

export default function RuleEditorPage({ id }: { id: string | null }) {
  const isNew = id === null;
  useTitle(isNew ? 'New rule' : 'Edit rule');
  const { query } = useRoute();
  const fromEvent = isNew ? query.get('from_event') : null;
  const [draft, setDraft] = useState<Draft | null>(isNew && !fromEvent ? EMPTY : null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const [server, setServer] = useState<Errors>({});
  const [saveError, setSaveError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  const [touched, setTouched] = useState(false);
  const [tried, setTried] = useState(false);
  const [people, setPeople] = useState<Person[] | null>(null);
  const [offChannels, setOffChannels] = useState<string[]>([]);
  const [fields, setFields] = useState<Record<string, string>>({});
  const [previewOpen, setPreviewOpen] = useState(wide);
  const { roles } = useRoles();
  const seq = useRef(0);

  useEffect(() => {
    api.get<{ items: Person[] }>('/v1/users').then((r) => setPeople(r.items.map((p) => ({ id: p.id, name: p.name }))), () => setPeople([]));
    api.get<{ channels: Array<{ channel: string; state: string }> }>('/v1/reachability/me').then(
      (r) => setOffChannels(r.channels.filter((c) => c.state === 'not_configured').map((c) => c.channel)),
      () => undefined,
    );
    api.get<{ items: EventView[] }>('/v1/events?limit=100').then((r) => setFields((f) => ({ ...fieldsOf(r.items), ...f })), () => undefined);
  }, []);

  useEffect(() => {
    if (fromEvent) {
      api.get<EventView & { entity?: Record<string, unknown> | null }>(`/v1/events/${encodeURIComponent(fromEvent)}`).then((ev) => {
        setFields((f) => ({ ...f, ...fieldsOf([ev]) }));
        setDraft({ ...EMPTY, name: `${label(ev.category)}: ${ev.type.replace(/_/g, ' ')}`, category: ev.category, type: ev.type, min_severity: ev.severity });
        setTouched(true);
      }, setLoadError);
      return;
    }
    if (isNew) return;
    api.get<{ items: Rule[] }>('/v1/rules').then((r) => {
      const rule = r.items.find((x) => String(x.id) === id);
      if (rule) {
        setDraft(fromRule(rule));
        setPreview(rule.preview);
      } else setLoadError(new ApiError({ title: 'No such rule', status: 404, detail: `There is no rule ${id}.` }));
    }, setLoadError);
  }, [id, fromEvent]);

  const local = useMemo(() => (draft ? localErrors(draft) : {}), [draft]);
  const built = useMemo(() => (draft && !Object.keys(local).length ? toRule(draft, fields) : null), [draft, local, fields]);
  const debounced = useDebounced(built, 350);

  useEffect(() => {
    if (!debounced || !touched) return; // a blank new rule: nothing to preview yet
    const mine = ++seq.current;
    const ctl = new AbortController();
    api
      .post<{ preview: string }>('/v1/rules/preview', { rule: debounced }, { signal: ctl.signal })
      .then((r) => {
        if (mine !== seq.current) return;
        setPreview(r.preview);
        setServer({});
      })
      .catch((e) => {
        if (mine !== seq.current || (e as Error)?.name === 'AbortError') return;
        if (e instanceof ApiError && e.status === 400) setServer(serverErrors(e.problem.errors));
      });
    return () => ctl.abort();
  }, [debounced]);

  // Local checks first (they are about what is being typed); the server's for the rest. One message per field.
  const errors: Errors = touched ? { ...server, ...local } : {};
  const errorCount = Object.keys(errors).length;

  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => {
    setTouched(true);
    setDraft((d) => d && { ...d, [k]: v });
  };
  const setStep = (i: number, patch: Partial<StepDraft>) => set('steps', draft!.steps.map((s, j) => (j === i ? { ...s, ...patch } : s)));
  const setCond = (i: number, patch: Partial<CondDraft>) => set('conditions', draft!.conditions.map((c, j) => (j === i ? { ...c, ...patch } : c)));

  async function save(e: Event) {
    e.preventDefault();
    setTouched(true);
    setTried(true);
    setSaveError(null);
    setSaved(null);
    if (!draft) return;
    if (Object.keys(local).length) {
      document.getElementById(Object.keys(local)[0])?.focus();
      return;
    }
    const rule = toRule(draft, fields);
    setSaving(true);
    try {
      if (isNew) {
        const r = await api.post<Rule>('/v1/rules', rule);
        navigate(r && typeof r.id === 'number' ? `/rules/${r.id}` : '/rules', { replace: true });
        setSaved('Rule created.');
      } else {
        const r = await api.patch<Rule>(`/v1/rules/${id}`, rule);
        if (r?.preview) setPreview(r.preview);
        setSaved('Rule saved.');
      }
      setServer({});
    } catch (err) {
      if (err instanceof ApiError && err.status === 400 && err.problem.errors?.length) {
        const found = serverErrors(err.problem.errors);
        setServer(found);
        document.getElementById(Object.keys(found)[0])?.focus();
      } else setSaveError(err);
    } finally {
      setSaving(false);
    }
  }

  if (loadError) {
    return (
      <section class="page">
        <h1>{isNew ? 'New rule' : 'Edit rule'}</h1>
        <ProblemBox error={loadError} />
        <Link href="/rules">Back to rules</Link>
      </section>
    );
  }
  if (!draft) {
    return (
      <section class="page">
        <h1>{isNew ? 'New rule' : 'Edit rule'}</h1>
        <p class="loading" role="status">
          Loading…
        </p>
      </section>
    );
  }

  const previewText = errorCount
    ? `Not valid yet: ${errorCount === 1 ? 'one field needs' : `${errorCount} fields need`} attention (marked below).`
    : (preview ?? 'Fill in the rule to see what it will do.');
  const fieldNames = Object.keys(fields).sort();
  return (
    <section class="page" aria-labelledby="editor-title">
      <p class="back">
        <Link href="/rules">← Rules</Link>
      </p>
      <h1 id="editor-title">{isNew ? 'New rule' : `Edit: ${draft.name || 'rule'}`}</h1>
      {fromEvent && <p class="sub">Started from an event that matched no rule: choose who it goes to, then create the rule.</p>}

      <details class="preview-box" open={previewOpen} onToggle={(e) => setPreviewOpen((e.currentTarget as HTMLDetailsElement).open)}>
        <summary>
          <span class="preview-label">Preview</span>
          {!previewOpen && <span class="preview-one">{previewText}</span>}
        </summary>
        <p class="preview" aria-live="polite">
          {previewText}
        </p>
      </details>

      <form class="form rule-form" id="r-form" onSubmit={save} noValidate>
        <Field id="r-name" label="Name" error={errors['r-name']}>
          <input id="r-name" required value={draft.name} onInput={(e) => set('name', val(e))} {...described('r-name', errors)} />
        </Field>
        <div class="row">
          <Field id="r-category" label="Category" hint="finance, sales, production, system, …" error={errors['r-category']}>
            <input id="r-category" required list="r-categories" value={draft.category} onInput={(e) => set('category', val(e))} {...described('r-category', errors, true)} />
            <datalist id="r-categories">
              <option value="finance" />
              <option value="sales" />
              <option value="production" />
              <option value="system" />
            </datalist>
          </Field>
          <Field id="r-type" label="Type" hint="Empty matches every type" error={errors['r-type']}>
            <input id="r-type" value={draft.type} onInput={(e) => set('type', val(e))} {...described('r-type', errors, true)} />
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
          <Field id="r-position" label="Position" hint="Rules run in this order" error={errors['r-position']}>
            <input id="r-position" type="number" inputMode="numeric" min={0} value={draft.position} onInput={(e) => set('position', val(e))} {...described('r-position', errors, true)} />
          </Field>
        </div>

        <fieldset class="group" aria-describedby="r-cond-hint">
          <legend>Conditions</legend>
          <p class="hint" id="r-cond-hint">
            {draft.conditions.length ? 'All must hold.' : 'None: every event of the category and type matches.'}
          </p>
          <datalist id="r-fields">
            {fieldNames.map((f) => (
              <option key={f} value={f}>
                {`${f.replace(/^(metadata|entity)\./, '')} (${f.startsWith('entity') ? 'entity' : fields[f]})`}
              </option>
            ))}
          </datalist>
          {draft.conditions.map((c, i) => (
            <div key={i} class="cond-row" role="group" aria-label={`Condition ${i + 1}`}>
              <Field id={`r-cond-${i}-field`} label="Field" error={errors[`r-cond-${i}-field`]}>
                <input id={`r-cond-${i}-field`} list="r-fields" autocomplete="off" spellcheck={false} value={c.field} placeholder="metadata.amount"
                  onInput={(e) => setCond(i, { field: val(e) })} {...described(`r-cond-${i}-field`, errors)} />
              </Field>
              <Field id={`r-cond-${i}-op`} label="Operator" error={errors[`r-cond-${i}-op`]}>
                <select id={`r-cond-${i}-op`} value={c.op} onChange={(e) => setCond(i, { op: val(e) })} {...described(`r-cond-${i}-op`, errors)}>
                  {OP_WORDS.map(([op, words]) => (
                    <option key={op} value={op}>
                      {words}
                    </option>
                  ))}
                </select>
              </Field>
              {c.op !== 'exists' ? (
                <Field id={`r-cond-${i}-value`} label="Value" hint={c.op === 'in' ? 'Separate values with commas' : undefined} error={errors[`r-cond-${i}-value`]}>
                  <input id={`r-cond-${i}-value`} value={c.value} inputMode={['gt', 'gte', 'lt', 'lte'].includes(c.op) ? 'decimal' : undefined}
                    onInput={(e) => setCond(i, { value: val(e) })} {...described(`r-cond-${i}-value`, errors, c.op === 'in')} />
                </Field>
              ) : (
                <span />
              )}
              <button type="button" class="btn small ghost" onClick={() => set('conditions', draft.conditions.filter((_, j) => j !== i))}>
                Remove condition {i + 1}
              </button>
            </div>
          ))}
          <button type="button" class="btn small" onClick={() => set('conditions', [...draft.conditions, { field: '', op: 'eq', value: '' }])}>
            Add condition
          </button>
        </fieldset>

        <fieldset class="group" id="r-targets">
          <legend>Who is told</legend>
          <RolePicker legend="Roles" idPrefix="r-target" roles={roles} value={draft.roles} onChange={(v) => set('roles', v)} />
          <PeoplePicker legend="People" id="r-people" people={people} value={draft.users} onChange={(v) => set('users', v)} />
          <FieldError id="r-targets" error={errors['r-targets']} />
        </fieldset>

        <fieldset class="checks" id="r-channels">
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
              {offChannels.includes(c) && <span class="channel-off">(not configured: nothing is sent)</span>}
            </label>
          ))}
          <FieldError id="r-channels" error={errors['r-channels']} />
        </fieldset>
        <div class="row">
          <Field id="r-slack" label="Slack channel" hint="Optional shared channel" error={errors['r-slack']}>
            <input id="r-slack" value={draft.slack_channel} onInput={(e) => set('slack_channel', val(e))} {...described('r-slack', errors, true)} />
          </Field>
          <Field id="r-discord" label="Discord channel" hint="Optional shared channel id" error={errors['r-discord']}>
            <input id="r-discord" value={draft.discord_channel} onInput={(e) => set('discord_channel', val(e))} {...described('r-discord', errors, true)} />
          </Field>
        </div>

        <fieldset class="group">
          <legend>Escalation</legend>
          {draft.steps.length === 0 && <p class="hint">No escalation: the alert stays with its first recipients.</p>}
          {draft.steps.map((s, i) => (
            <fieldset key={i} class="step">
              <legend>Step {i + 1}</legend>
              <div class="row">
                <Field id={`r-step-${i}-after`} label={`Step ${i + 1}: after`} hint="after the alert opened, if nobody acknowledged" error={errors[`r-step-${i}-after`]}>
                  <input id={`r-step-${i}-after`} type="number" inputMode="decimal" min={0} step="any" value={s.after}
                    onInput={(e) => setStep(i, { after: val(e) })} {...described(`r-step-${i}-after`, errors, true)} />
                </Field>
                <Field id={`r-step-${i}-unit`} label={`Step ${i + 1}: unit`}>
                  <select id={`r-step-${i}-unit`} value={s.unit} onChange={(e) => setStep(i, { unit: val(e) as StepDraft['unit'] })}>
                    <option value="minutes">minutes</option>
                    <option value="hours">hours</option>
                  </select>
                </Field>
              </div>
              <div id={`r-step-${i}-who`}>
                <RolePicker legend={`Step ${i + 1}: roles`} idPrefix={`r-step-${i}-role`} roles={roles} value={s.roles} onChange={(v) => setStep(i, { roles: v })} />
                <PeoplePicker legend={`Step ${i + 1}: people`} id={`r-step-${i}-people`} people={people} value={s.users} onChange={(v) => setStep(i, { users: v })} />
                <FieldError id={`r-step-${i}-who`} error={errors[`r-step-${i}-who`]} />
              </div>
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
              const next: StepDraft = last ? { after: String((Number(last.after) || 0) * 2 || 1), unit: last.unit, roles: [], users: [] } : { after: '1', unit: 'hours', roles: [], users: [] };
              set('steps', [...draft.steps, next]);
            }}
          >
            Add escalation step
          </button>
          <Field id="r-repeat" label="Repeat escalation" hint="Times to run the steps again (0–10)" error={errors['r-repeat']}>
            <input id="r-repeat" type="number" inputMode="numeric" min={0} max={10} value={draft.repeat} onInput={(e) => set('repeat', val(e))} {...described('r-repeat', errors, true)} />
          </Field>
        </fieldset>

        <fieldset class="group">
          <legend>SOP</legend>
          <Field id="r-sop-title" label="SOP title" error={errors['r-sop-title']}>
            <input id="r-sop-title" value={draft.sop_title} onInput={(e) => set('sop_title', val(e))} {...described('r-sop-title', errors)} />
          </Field>
          <Field id="r-sop-steps" label="SOP steps" hint="One step per line" error={errors['r-sop-steps']}>
            <textarea id="r-sop-steps" rows={4} value={draft.sop_steps} onInput={(e) => set('sop_steps', val(e))} {...described('r-sop-steps', errors, true)} />
          </Field>
          <Field id="r-sop-url" label="SOP link" error={errors['r-sop-url']}>
            <input id="r-sop-url" type="url" inputMode="url" value={draft.sop_url} onInput={(e) => set('sop_url', val(e))} {...described('r-sop-url', errors)} />
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

        {tried && errorCount > 0 && (
          <p class="field-error" role="status">
            {errors['r-form'] ?? `Not saved yet: fix the ${errorCount === 1 ? 'field' : `${errorCount} fields`} marked above.`}
          </p>
        )}
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
