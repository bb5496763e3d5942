import { useEffect, useState } from 'preact/hooks';

export function useTitle(title: string) {
  useEffect(() => {
    document.title = title ? `${title} · Herald` : 'Herald';
  }, [title]);
}

/** `value`, once it has stopped changing for `ms`. */
export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

/**
 * A form action's busy / error / finally in one place: `run(fn)` marks busy, clears the last error, and
 * keeps the new one (for a <ProblemBox>) instead of throwing; it answers fn's result, or undefined on error.
 */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  async function run<T>(fn: () => Promise<T>): Promise<T | undefined> {
    setBusy(true);
    setError(null);
    try {
      return await fn();
    } catch (e) {
      setError(e);
      return undefined;
    } finally {
      setBusy(false);
    }
  }
  return { busy, error, setError, run };
}
