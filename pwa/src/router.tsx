// A tiny history-API router: one store holding the current location, `navigate`, a `Link` that keeps
// ordinary link behaviour (new tab, modifiers), and `match` for patterns like `/alerts/:id`.
import type { AnchorHTMLAttributes, ComponentChildren } from 'preact';
import { createStore, useStore } from './store';

export interface Loc {
  path: string;
  query: URLSearchParams;
}

const read = (): Loc => ({ path: location.pathname.replace(/\/+$/, '') || '/', query: new URLSearchParams(location.search) });
export const route = createStore<Loc>(read());

addEventListener('popstate', () => route.set(read()));

export function navigate(to: string, opts: { replace?: boolean } = {}) {
  const url = new URL(to, location.href);
  if (url.origin !== location.origin) {
    location.href = url.href;
    return;
  }
  const target = url.pathname + url.search + url.hash;
  if (target === location.pathname + location.search + location.hash) return;
  history[opts.replace ? 'replaceState' : 'pushState'](null, '', target);
  route.set(read());
  if (!opts.replace) scrollTo(0, 0);
}

export function useRoute(): Loc {
  return useStore(route);
}

/** `/alerts/:id` against `/alerts/42` → `{id: '42'}`; null when it does not match. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/').filter(Boolean);
  const s = path.split('/').filter(Boolean);
  if (p.length !== s.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) params[p[i].slice(1)] = decodeURIComponent(s[i]);
    else if (p[i] !== s[i]) return null;
  }
  return params;
}

type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & { href: string; children?: ComponentChildren };

export function Link({ href, onClick, ...rest }: LinkProps) {
  return (
    <a
      href={href}
      onClick={(e) => {
        if (onClick) (onClick as (e: MouseEvent) => void)(e);
        if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(href);
      }}
      {...rest}
    />
  );
}
