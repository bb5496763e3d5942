// Settings → Notifications: my channels per priority (among those a rule allows; at least one stays),
// quiet hours in my time zone with the priorities that may break them, and the digest for low ones.
// The sentence under the form is the server's own preview function (db/model/preferences.ts), live.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { ProblemBox } from '../components/Problem';
import { useAction } from '../hooks';
import { CHANNEL_KINDS, CHANNEL_LABELS, type ChannelKind } from '../../../db/model/channels';
import { PRIORITIES, type Priority } from '../../../db/model/levels';
import { DEFAULT_PREFERENCES, preferencesPreview, type Preferences } from '../../../db/model/preferences';

const PRIORITY_NAMES: Record<Priority, string> = { critical: 'Critical', high: 'High', normal: 'Normal', low: 'Low' };

export default function PreferencesPanel() {
  const [prefs, setPrefs] = useState<Preferences | null>(null);
  const [tz, setTz] = useState('UTC');
  const [saved, setSaved] = useState<string | null>(null);
  const load = useAction();
  const save = useAction();

  useEffect(() => {
    void load.run(async () => {
      const p = await api.get<Preferences & { timezone: string }>('/v1/me/preferences');
      setTz(p.timezone);
      setPrefs({ channels: p.channels, quiet_hours: p.quiet_hours, digest: p.digest });
    });
  }, []);

  if (!prefs) return (
    <section class="panel" aria-labelledby="prefs-title">
      <h2 id="prefs-title">Notifications</h2>
      <ProblemBox error={load.error} title="Preferences could not be loaded" />
      {!load.error && <p class="loading" role="status">Loading…</p>}
    </section>
  );

  const toggleChannel = (p: Priority, k: ChannelKind, on: boolean) => setPrefs((x) => {
    const cur = x!.channels[p] ?? [];
    const list = on ? [...cur, k] : cur.filter((c) => c !== k);
    const channels = { ...x!.channels };
    if (list.length) channels[p] = CHANNEL_KINDS.filter((c) => list.includes(c)); else delete channels[p];
    return { ...x!, channels };
  });
  const quiet = prefs.quiet_hours;

  async function submit(e: Event) {
    e.preventDefault();
    setSaved(null);
    const r = await save.run(() => api.put<{ preview: string }>('/v1/me/preferences', prefs));
    if (r) setSaved('Saved.');
  }

  return (
    <section class="panel" aria-labelledby="prefs-title">
      <h2 id="prefs-title">Notifications</h2>
      <form class="form" onSubmit={submit}>
        {PRIORITIES.slice().reverse().map((p) => (
          <fieldset key={p}>
            <legend>{PRIORITY_NAMES[p]} alerts by</legend>
            {CHANNEL_KINDS.map((k) => (
              <label key={k} class="check">
                <input type="checkbox" checked={prefs.channels[p]?.includes(k) ?? false} onChange={(e) => toggleChannel(p, k, (e.target as HTMLInputElement).checked)} />{' '}
                {CHANNEL_LABELS[k]}
              </label>
            ))}
            <p class="hint">None ticked: every channel the rule names. A rule's channels always win; at least one stays.</p>
          </fieldset>
        ))}
        <fieldset>
          <legend>Quiet hours ({tz})</legend>
          <label class="check">
            <input type="checkbox" checked={!!quiet} onChange={(e) => setPrefs({ ...prefs, quiet_hours: (e.target as HTMLInputElement).checked ? { start: '22:00', end: '07:00', except: ['critical'] } : null })} /> Hold notifications at night
          </label>
          {quiet && (
            <div class="row">
              <div class="field">
                <label for="q-start">From</label>
                <input id="q-start" type="time" required value={quiet.start} onInput={(e) => setPrefs({ ...prefs, quiet_hours: { ...quiet, start: (e.target as HTMLInputElement).value } })} />
              </div>
              <div class="field">
                <label for="q-end">Until</label>
                <input id="q-end" type="time" required value={quiet.end} onInput={(e) => setPrefs({ ...prefs, quiet_hours: { ...quiet, end: (e.target as HTMLInputElement).value } })} />
              </div>
            </div>
          )}
          {quiet && PRIORITIES.slice().reverse().map((p) => (
            <label key={p} class="check">
              <input type="checkbox" checked={quiet.except.includes(p)} onChange={(e) => setPrefs({ ...prefs, quiet_hours: { ...quiet, except: (e.target as HTMLInputElement).checked ? [...quiet.except, p] : quiet.except.filter((x) => x !== p) } })} />{' '}
              {PRIORITY_NAMES[p]} alerts come through anyway
            </label>
          ))}
        </fieldset>
        <fieldset>
          <legend>Digest of low-priority alerts</legend>
          <div class="row">
            <div class="field">
              <label for="d-freq">How often</label>
              <select id="d-freq" value={prefs.digest.frequency} onChange={(e) => setPrefs({ ...prefs, digest: { ...prefs.digest, frequency: (e.target as HTMLSelectElement).value as Preferences['digest']['frequency'] } })}>
                <option value="off">Off (one message each)</option>
                <option value="daily">Daily</option>
                <option value="weekly">Weekly (Mondays)</option>
              </select>
            </div>
            <div class="field">
              <label for="d-at">At</label>
              <input id="d-at" type="time" required value={prefs.digest.at} onInput={(e) => setPrefs({ ...prefs, digest: { ...prefs.digest, at: (e.target as HTMLInputElement).value } })} />
            </div>
          </div>
        </fieldset>
        <p class="preview" aria-live="polite" data-testid="prefs-preview">{preferencesPreview(prefs ?? DEFAULT_PREFERENCES)}</p>
        <ProblemBox error={save.error} title="Preferences were not saved" />
        {saved && <p role="status">{saved}</p>}
        <button type="submit" class="btn primary" disabled={save.busy} aria-busy={save.busy}>
          Save notification settings
        </button>
      </form>
    </section>
  );
}
