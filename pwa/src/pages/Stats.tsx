// /stats — a small analytics panel: alerts by category (and by severity) from the last 200 alerts.
// Chart.js is imported dynamically here, so it never ships with the first screen.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import { ProblemBox } from '../components/Problem';
import { useTitle } from '../hooks';
import { label, SEVERITIES, type AlertList, type AlertView } from '../types';

const COLORS = ['#1d4ed8', '#b45309', '#047857', '#7c3aed', '#be123c', '#0e7490', '#4d7c0f'];

function count<K extends string>(items: AlertView[], key: (a: AlertView) => K): Array<[K, number]> {
  const m = new Map<K, number>();
  for (const a of items) m.set(key(a), (m.get(key(a)) ?? 0) + 1);
  return [...m].sort((a, b) => b[1] - a[1]);
}

export default function StatsPage() {
  useTitle('Stats');
  const [items, setItems] = useState<AlertView[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const canvas = useRef<HTMLCanvasElement>(null);

  useEffect(() => {
    api.get<AlertList>('/v1/alerts?limit=200').then((r) => setItems(r.items), setError);
  }, []);

  const byCategory = items ? count(items, (a) => a.category) : [];
  const bySeverity = items ? SEVERITIES.map((s) => [s, items.filter((a) => a.severity === s).length] as const) : [];

  useEffect(() => {
    if (!items || !canvas.current || !byCategory.length) return;
    let chart: { destroy(): void } | null = null;
    let cancelled = false;
    import('chart.js').then(({ Chart, BarController, BarElement, CategoryScale, LinearScale, Tooltip }) => {
      if (cancelled || !canvas.current) return;
      Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);
      chart = new Chart(canvas.current, {
        type: 'bar',
        data: {
          labels: byCategory.map(([c]) => label(c)),
          datasets: [{ label: 'Alerts', data: byCategory.map(([, n]) => n), backgroundColor: byCategory.map((_, i) => COLORS[i % COLORS.length]) }],
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          plugins: { tooltip: { enabled: true } },
          scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
        },
      });
    }, setError);
    return () => {
      cancelled = true;
      chart?.destroy();
    };
  }, [items]);

  return (
    <section class="page" aria-labelledby="stats-title">
      <h1 id="stats-title">Stats</h1>
      <p class="sub">The last {items?.length ?? 200} alerts you can see.</p>
      <ProblemBox error={error} title="Could not load the figures" />
      {!items && !error && (
        <p class="loading" role="status">
          Loading…
        </p>
      )}
      {items && (
        <>
          <section class="panel" aria-labelledby="by-cat-title">
            <h2 id="by-cat-title">Alerts by category</h2>
            {byCategory.length ? (
              <>
                <div class="chart-box">
                  <canvas ref={canvas} role="img" aria-label={`Bar chart of alerts by category: ${byCategory.map(([c, n]) => `${label(c)} ${n}`).join(', ')}`} />
                </div>
                <table class="table compact">
                  <caption class="sr-only">Alerts by category</caption>
                  <thead>
                    <tr>
                      <th scope="col">Category</th>
                      <th scope="col" class="num">Alerts</th>
                    </tr>
                  </thead>
                  <tbody>
                    {byCategory.map(([c, n]) => (
                      <tr key={c}>
                        <th scope="row">{label(c)}</th>
                        <td class="num">{n}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </>
            ) : (
              <p>No alerts yet.</p>
            )}
          </section>
          <section class="panel" aria-labelledby="by-sev-title">
            <h2 id="by-sev-title">By severity</h2>
            <ul class="stat-row">
              {bySeverity.map(([s, n]) => (
                <li key={s} class={`stat sev-${s}`}>
                  <span class="stat-n">{n}</span> {label(s)}
                </li>
              ))}
            </ul>
          </section>
        </>
      )}
    </section>
  );
}
