// A minimal observable value and its hook (no state library: the first screen stays small).
import { useEffect, useRef, useState } from 'preact/hooks';

export interface Store<T> {
  get(): T;
  set(next: T | ((prev: T) => T)): void;
  subscribe(fn: (v: T) => void): () => void;
}

export function createStore<T>(initial: T): Store<T> {
  let value = initial;
  const subs = new Set<(v: T) => void>();
  return {
    get: () => value,
    set(next) {
      const v = typeof next === 'function' ? (next as (p: T) => T)(value) : next;
      if (Object.is(v, value)) return;
      value = v;
      subs.forEach((fn) => fn(value));
    },
    subscribe(fn) {
      subs.add(fn);
      return () => subs.delete(fn);
    },
  };
}

export function useStore<T>(store: Store<T>): T {
  const value = store.get();
  const [, force] = useState(0);
  // The value this render used: a change between render and subscribe (effects run later) must re-render.
  const rendered = useRef(value);
  rendered.current = value;
  useEffect(() => {
    const off = store.subscribe(() => force((n) => n + 1));
    if (!Object.is(store.get(), rendered.current)) force((n) => n + 1);
    return off;
  }, [store]);
  return value;
}
