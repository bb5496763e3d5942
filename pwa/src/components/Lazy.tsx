// Code-split pages: the module loads on first visit, so admin pages and Chart.js stay out of the first
// screen's bundle.
import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ProblemBox } from './Problem';

export function lazy<P extends object>(load: () => Promise<{ default: ComponentType<P> }>) {
  let Loaded: ComponentType<P> | null = null;
  let promise: Promise<ComponentType<P>> | null = null;
  const get = () =>
    (promise ??= load().then(
      (m) => (Loaded = m.default),
      (e) => {
        promise = null;
        throw e;
      },
    ));
  return function LazyPage(props: P) {
    const [, setReady] = useState(false);
    const [error, setError] = useState<unknown>(null);
    useEffect(() => {
      if (!Loaded) get().then(() => setReady(true), setError);
    }, []);
    if (Loaded) return <Loaded {...props} />;
    if (error) return <ProblemBox error={error} title="This page could not be loaded" />;
    return (
      <p class="loading" role="status">
        Loading…
      </p>
    );
  };
}
