// Forecasts: Holt's linear exponential smoothing (level + trend), hand-written. No maintained JavaScript
// library offers it with prediction intervals (simple-statistics has regression but no smoothing; the npm
// "holt-winters" style packages are unmaintained), and the method is twenty lines.
//
// Parameters are chosen by grid search on the one-step-ahead squared error. The 95% interval uses the
// method's h-step variance, sigma² · (1 + Σ_{j=1}^{h-1} α²(1 + jβ)²) (Hyndman & Athanasopoulos, "Forecasting:
// Principles and Practice", table of ETS(A,A,N) variances). `backtest_mape` fits on all but the last k points
// (k = min(horizon, n/3)), forecasts them, and reports the mean absolute percentage error over non-zero actuals.

export const MIN_HISTORY = 6;

interface Fit { alpha: number; beta: number; level: number; trend: number; sse: number; n: number }

function fit(y: number[], alpha: number, beta: number): Fit {
  let level = y[0];
  let trend = y[1] - y[0];
  let sse = 0;
  for (let i = 1; i < y.length; i++) {
    const f = level + trend;
    const e = y[i] - f;
    sse += e * e;
    const prevLevel = level;
    level = alpha * y[i] + (1 - alpha) * (level + trend);
    trend = beta * (level - prevLevel) + (1 - beta) * trend;
  }
  return { alpha, beta, level, trend, sse, n: y.length };
}

export function bestFit(y: number[]): Fit {
  let best: Fit | null = null;
  for (let a = 1; a <= 9; a++) {
    for (const beta of [0.01, 0.05, 0.1, 0.2, 0.3, 0.5]) {
      const f = fit(y, a / 10, beta);
      if (!best || f.sse < best.sse) best = f;
    }
  }
  return best!;
}

export function predict(f: Fit, horizon: number) {
  const sigma = Math.sqrt(f.sse / Math.max(1, f.n - 3));
  const out: Array<{ value: number; lo: number; hi: number }> = [];
  let acc = 1;
  for (let h = 1; h <= horizon; h++) {
    if (h > 1) acc += f.alpha ** 2 * (1 + (h - 1) * f.beta) ** 2;
    const value = f.level + h * f.trend;
    const half = 1.96 * sigma * Math.sqrt(acc);
    out.push({ value, lo: value - half, hi: value + half });
  }
  return out;
}

export function backtestMape(y: number[], horizon: number): number | null {
  const k = Math.min(horizon, Math.floor(y.length / 3));
  if (k < 1 || y.length - k < 3) return null;
  const train = y.slice(0, y.length - k);
  const pred = predict(bestFit(train), k);
  const errs: number[] = [];
  for (let i = 0; i < k; i++) {
    const a = y[y.length - k + i];
    if (a !== 0) errs.push(Math.abs((a - pred[i].value) / a));
  }
  return errs.length ? Math.round((errs.reduce((s, e) => s + e, 0) / errs.length) * 10000) / 100 : null;
}

export interface ForecastResult {
  forecast: Array<{ value: number; lo: number; hi: number }>;
  method: string;
  backtest_mape: number | null;
}

/** Holt's linear forecast of `horizon` points after y, with `nonNegative` clamping for counts. */
export function holtForecast(y: number[], horizon: number, nonNegative: boolean): ForecastResult {
  const f = bestFit(y);
  const r6 = (x: number) => Math.round(x * 1e6) / 1e6;
  const clamp = (x: number) => (nonNegative ? Math.max(0, x) : x);
  return {
    forecast: predict(f, horizon).map((p) => ({ value: r6(clamp(p.value)), lo: r6(clamp(p.lo)), hi: r6(clamp(p.hi)) })),
    method: `holt_linear(alpha=${f.alpha},beta=${f.beta})`,
    backtest_mape: backtestMape(y, horizon),
  };
}
