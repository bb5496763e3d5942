// The rule editor's form model without JSON: conditions as field / operator / value rows, people by id (picked
// by name), escalation steps as "N minutes|hours after the alert opened", and the server's validation
// errors (paths like `match.conditions.0.op`) turned into plain words placed next to the field they concern.
import type { Rule, RuleBody } from './shared';

export const OP_WORDS: Array<[string, string]> = [
  ['eq', 'is'], ['neq', 'is not'], ['gt', 'is more than'], ['gte', 'is at least'], ['lt', 'is less than'], ['lte', 'is at most'],
  ['in', 'is one of'], ['contains', 'contains'], ['exists', 'is present'], ['matches', 'matches the pattern'],
];
const NUMERIC_OPS = ['gt', 'gte', 'lt', 'lte'];

export interface CondDraft { field: string; op: string; value: string }
export interface StepDraft { after: string; unit: 'minutes' | 'hours'; roles: string[]; users: number[] }

export interface Draft {
  name: string;
  enabled: boolean;
  position: string;
  continue: boolean;
  category: string;
  type: string;
  min_severity: string;
  conditions: CondDraft[];
  roles: string[];
  users: number[];
  channels: string[];
  priority: string;
  steps: StepDraft[];
  repeat: string;
  slack_channel: string;
  discord_channel: string;
  sop_title: string;
  sop_steps: string;
  sop_url: string;
  /** Kept as they were (edited elsewhere): schedules named as targets. */
  schedules: number[];
  stepSchedules: number[][];
}

export const EMPTY: Draft = {
  name: '', enabled: true, position: '100', continue: false, category: '', type: '', min_severity: 'warning', conditions: [],
  roles: [], users: [], channels: ['in_app'], priority: 'normal', steps: [], repeat: '0', slack_channel: '', discord_channel: '',
  sop_title: '', sop_steps: '', sop_url: '', schedules: [], stepSchedules: [],
};

const shown = (v: unknown): string => (v === undefined || v === null ? '' : Array.isArray(v) ? v.map(shown).join(', ') : typeof v === 'object' ? JSON.stringify(v) : String(v));

export function fromRule(r: Rule): Draft {
  const t = r.targets as RuleBody['targets'] & { schedules?: number[] };
  return {
    name: r.name, enabled: r.enabled, position: String(r.position ?? 100), continue: !!r.continue,
    category: r.match.category, type: r.match.type ?? '', min_severity: r.match.min_severity ?? 'info',
    conditions: (r.match.conditions ?? []).map((c) => ({ field: c.field, op: c.op, value: shown(c.value) })),
    roles: t?.roles ?? [], users: t?.users ?? [], channels: r.channels ?? [], priority: r.priority,
    steps: (r.escalation?.steps ?? []).map((s) => {
      const hours = s.after_minutes >= 60 && s.after_minutes % 60 === 0;
      return { after: String(hours ? s.after_minutes / 60 : s.after_minutes), unit: hours ? 'hours' : 'minutes', roles: s.roles ?? [], users: s.users ?? [] };
    }),
    repeat: String(r.escalation?.repeat ?? 0), slack_channel: r.slack_channel ?? '', discord_channel: r.discord_channel ?? '',
    sop_title: r.sop?.title ?? '', sop_steps: (r.sop?.steps ?? []).join('\n'), sop_url: r.sop?.url ?? '',
    schedules: t?.schedules ?? [], stepSchedules: (r.escalation?.steps ?? []).map((s) => (s as { schedules?: number[] }).schedules ?? []),
  };
}

const NUMBER = /^-?\d+(\.\d+)?$/;
/** A typed value as JSON: numbers for comparisons (and numeric-looking text unless the field carries text), lists for "is one of". */
export function condValue(c: CondDraft, fieldKind: string | undefined): unknown {
  const v = c.value.trim();
  const scalar = (s: string): unknown => {
    if (NUMBER.test(s) && fieldKind !== 'string') return Number(s);
    if ((s === 'true' || s === 'false') && fieldKind === 'boolean') return s === 'true';
    return s;
  };
  if (c.op === 'exists') return undefined;
  if (NUMERIC_OPS.includes(c.op)) return NUMBER.test(v) ? Number(v) : v;
  if (c.op === 'in') return v.split(',').map((x) => x.trim()).filter(Boolean).map(scalar);
  if (c.op === 'matches' || c.op === 'contains') return v;
  return scalar(v);
}

export type Errors = Record<string, string>;

/** Checks the form can say plainly before asking the server; keys are form field ids. */
export function localErrors(d: Draft): Errors {
  const e: Errors = {};
  d.conditions.forEach((c, i) => {
    if (!c.field.trim()) e[`r-cond-${i}-field`] = 'Choose a field of the event.';
    else if (!/^(metadata|entity)(\.[A-Za-z0-9_-]+)+$/.test(c.field.trim())) e[`r-cond-${i}-field`] = 'Choose a field from the list (they start with metadata. or entity.).';
    if (c.op !== 'exists' && !c.value.trim()) e[`r-cond-${i}-value`] = 'Enter the value to compare with.';
    else if (NUMERIC_OPS.includes(c.op) && !NUMBER.test(c.value.trim())) e[`r-cond-${i}-value`] = 'Enter a number.';
  });
  d.steps.forEach((s, i) => {
    if (!NUMBER.test(s.after.trim()) || Number(s.after) <= 0) e[`r-step-${i}-after`] = 'Enter how long after the alert opened, a number above 0.';
  });
  return e;
}

export function toRule(d: Draft, fieldKinds: Record<string, string>): RuleBody {
  const sopSteps = d.sop_steps.split('\n').map((s) => s.trim()).filter(Boolean);
  const hasSop = d.sop_title.trim() || sopSteps.length || d.sop_url.trim();
  const num = (s: string) => (s.trim() === '' ? NaN : Number(s));
  return {
    name: d.name, enabled: d.enabled, position: num(d.position), continue: d.continue,
    match: {
      category: d.category.trim(), type: d.type.trim() || null, min_severity: d.min_severity,
      conditions: d.conditions.map((c) => {
        const value = condValue(c, fieldKinds[c.field.trim()]);
        return value === undefined ? { field: c.field.trim(), op: c.op } : { field: c.field.trim(), op: c.op, value };
      }),
    },
    targets: { roles: d.roles, users: d.users, ...(d.schedules.length ? { schedules: d.schedules } : {}) } as RuleBody['targets'],
    channels: d.channels,
    priority: d.priority,
    escalation: {
      steps: d.steps.map((s, i) => ({
        after_minutes: num(s.after) * (s.unit === 'hours' ? 60 : 1), roles: s.roles, users: s.users,
        ...(d.stepSchedules[i]?.length ? { schedules: d.stepSchedules[i] } : {}),
      })),
      repeat: num(d.repeat),
    },
    slack_channel: d.slack_channel.trim() || null,
    discord_channel: d.discord_channel.trim() || null,
    sop: hasSop ? { title: d.sop_title.trim(), steps: sopSteps, url: d.sop_url.trim() || null } : null,
  };
}

/** Where a server error path belongs in the form: a field id. */
export function fieldFor(path: string): string {
  const p = path.split('.');
  if (p[0] === 'match' && p[1] === 'conditions' && p[2] !== undefined) {
    const part = p[3] === 'op' ? 'op' : p[3] === 'field' ? 'field' : 'value';
    return `r-cond-${p[2]}-${part}`;
  }
  if (p[0] === 'match') return ({ category: 'r-category', type: 'r-type', min_severity: 'r-sev' } as Record<string, string>)[p[1]] ?? 'r-category';
  if (p[0] === 'escalation' && p[1] === 'steps' && p[2] !== undefined) return p[3] === 'after_minutes' ? `r-step-${p[2]}-after` : `r-step-${p[2]}-who`;
  if (p[0] === 'escalation') return 'r-repeat';
  if (p[0] === 'targets') return 'r-targets';
  if (p[0] === 'sop') return p[1] === 'url' ? 'r-sop-url' : p[1] === 'steps' ? 'r-sop-steps' : 'r-sop-title';
  const top: Record<string, string> = { name: 'r-name', position: 'r-position', channels: 'r-channels', priority: 'r-priority', slack_channel: 'r-slack', discord_channel: 'r-discord' };
  return top[p[0]] ?? 'r-form';
}

/** A validation message in plain words (never a path or a schema term). */
export function plain(path: string, message: string): string {
  const m = message;
  const last = path.split('.').pop() ?? '';
  if (/expected one of/i.test(m) || /Invalid option/i.test(m)) return last === 'op' ? 'Choose an operator.' : 'Choose one of the offered values.';
  if (/metadata\.<path> or entity\.<path>/.test(m)) return 'Choose a field from the list (they start with metadata. or entity.).';
  if (/increasing after_minutes/.test(m)) return 'Each step must come later than the one before.';
  if (/needs roles, users or schedules/.test(m)) return 'Pick at least one role or person for this step.';
  if (/>=1 characters|too small.*string/i.test(m)) return 'This cannot be empty.';
  if (/at least 1|>=1 items|too small.*array/i.test(m) && last === 'channels') return 'Pick at least one channel.';
  if (/expected number|NaN/i.test(m)) return 'Enter a number.';
  if (/too big|<=|too large/i.test(m)) return 'This number or text is too large.';
  if (/lowercase letters, digits/.test(m)) return 'Use lowercase letters, digits, _ . or - (e.g. invoice_overdue).';
  if (/needs a value/.test(m)) return 'Enter the value to compare with.';
  if (/regular expression/.test(m)) return `This pattern does not work: ${m.replace(/^invalid regular expression for [^:]+: /, '')}`;
  // Otherwise the message, without schema words.
  const s = m.replace(/\b(after_minutes|min_severity|slack_channel|discord_channel)\b/g, (w) => w.replace(/_/g, ' '));
  return s.charAt(0).toUpperCase() + s.slice(1) + (s.endsWith('.') ? '' : '.');
}

/** Server errors keyed by field id, the first message for each field only. */
export function serverErrors(errors: Array<{ path: string | Array<string | number>; message: string }> | undefined): Errors {
  const out: Errors = {};
  for (const e of errors ?? []) {
    const path = Array.isArray(e.path) ? e.path.join('.') : e.path;
    const id = fieldFor(path);
    if (!out[id]) out[id] = plain(path, e.message);
  }
  return out;
}

/** Fields seen in events, with the kind of value they carried: `metadata.amount` → 'number'. */
export function fieldsOf(events: Array<{ metadata?: Record<string, unknown> | null; entity?: Record<string, unknown> | null }>): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (prefix: string, v: unknown, depth: number) => {
    if (v && typeof v === 'object' && !Array.isArray(v) && depth < 3) {
      for (const [k, x] of Object.entries(v)) if (/^[A-Za-z0-9_-]+$/.test(k)) walk(`${prefix}.${k}`, x, depth + 1);
    } else if (!(prefix in out)) out[prefix] = Array.isArray(v) ? 'list' : v === null ? 'null' : typeof v;
  };
  for (const e of events) {
    if (e.metadata) walk('metadata', e.metadata, 0);
    if (e.entity) walk('entity', e.entity, 0);
  }
  return out;
}
