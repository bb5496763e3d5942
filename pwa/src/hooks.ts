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

/**
 * An admin page's lists: `load` runs on mount, and `run(fn)` is a useAction whose fn is followed by `load`, so
 * each action shows its effect before it stops being busy (load keeps its own error).
 */
export function useReloadingAction(load: () => Promise<void>) {
  const action = useAction();
  useEffect(() => {
    void load();
  }, []);
  const run = (fn: () => Promise<void>) => action.run(async () => {
    await fn();
    await load();
  });
  return { ...action, run };
}
