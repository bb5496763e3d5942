// The SOP checklist. Ticks are saved per alert on the server (PUT /v1/alerts/:id/sop/:step) so the next
// person sees what was already done; a shared cache lets the card and the detail page agree.
import { useEffect, useState } from 'preact/hooks';
import { api, errorText } from '../api';
import { onAlert } from '../live';
import { createStore, useStore } from '../store';
import type { AlertDetail, SopViewT } from '../types';

/** The link only when it is http(s): a `javascript:` or `data:` URL must never become a clickable href. */
export function safeHref(url: string | null | undefined): string | null {
  if (typeof url !== 'string') return null;
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}

export const sopProgress = createStore<Record<number, number[]>>({});

export function setProgress(id: number, checked: number[]) {
  sopProgress.set((p) => ({ ...p, [id]: checked }));
}

// The stream sends each changed alert with its ticks (someone else ticked a step, on another phone).
onAlert((a) => {
  const p = (a as { sop_progress?: { checked?: unknown } }).sop_progress;
  if (p && Array.isArray(p.checked)) setProgress(a.id, p.checked.filter((x): x is number => typeof x === 'number'));
});

export async function loadProgress(id: number): Promise<void> {
  const d = await api.get<AlertDetail>(`/v1/alerts/${id}`);
  setProgress(id, d.sop_progress?.checked ?? []);
}

type Tick = { step: number; by: { name: string }; at: string };

export function SopChecklist({ alertId, sop, readOnly, ticks }: { alertId: number; sop: SopViewT; readOnly?: boolean; ticks?: Tick[] }) {
  const all = useStore(sopProgress);
  const checked = all[alertId];
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState<number | null>(null);

  useEffect(() => {
    if (checked === undefined) loadProgress(alertId).catch((e) => setError(errorText(e)));
  }, [alertId]);

  async function toggle(i: number, on: boolean) {
    const before = checked ?? [];
    setProgress(alertId, on ? [...new Set([...before, i])].sort((a, b) => a - b) : before.filter((x) => x !== i));
    setSaving(i);
    setError(null);
    try {
      const r = await api.put<{ checked: number[] }>(`/v1/alerts/${alertId}/sop/${i}`, { checked: on });
      setProgress(alertId, r.checked);
    } catch (e) {
      setProgress(alertId, before);
      setError(`Not saved: ${errorText(e)}`);
    } finally {
      setSaving(null);
    }
  }

  return (
    <div class="sop">
      {sop.steps.length > 0 && (
        <ul class="sop-steps">
          {sop.steps.map((step, i) => {
            const id = `sop-${alertId}-${i}`;
            return (
              <li key={i}>
                <input
                  type="checkbox"
                  id={id}
                  checked={!!checked?.includes(i)}
                  disabled={readOnly || checked === undefined || saving === i}
                  onChange={(e) => toggle(i, (e.currentTarget as HTMLInputElement).checked)}
                />
                <label for={id}>{step}</label>
                {checked?.includes(i) && ticks?.find((t) => t.step === i) && (
                  <span class="sop-by"> (ticked by {ticks.find((t) => t.step === i)!.by.name})</span>
                )}
              </li>
            );
          })}
        </ul>
      )}
      {safeHref(sop.url) && (
        <p>
          <a href={safeHref(sop.url)!} target="_blank" rel="noopener noreferrer">
            Full procedure<span class="sr-only"> for {sop.title} (opens in a new tab)</span>
          </a>
        </p>
      )}
      {error && (
        <p class="inline-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

export function sopSummary(sop: SopViewT, checked: number[] | undefined): string {
  if (!sop.steps.length) return sop.title;
  return checked === undefined ? `${sop.title}` : `${sop.title} (${checked.length}/${sop.steps.length} done)`;
}
