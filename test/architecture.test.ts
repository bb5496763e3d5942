// The import directions of the domain layer stay one-way (docs/architecture.md "Layers"): no two db/
// folders import each other, db/model imports nothing outside itself, db/platform imports no entity folder,
// and db/ never imports api/, bot/, jobs/ (except the worker's logger for migrations) or pwa/.
// A folder-level check: a cycle between two modules in different folders shows up as a folder pair.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir)).flatMap((name) => {
    const rel = path.join(dir, name);
    if (statSync(path.join(ROOT, rel)).isDirectory()) return name === 'migrations' ? [] : sources(rel);
    return /\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name) ? [rel] : [];
  });
}

/** `db/alerts/act.ts` → `alerts`; files at db/'s top level are each their own node (`herald.ts`…). */
const node = (file: string) => {
  const parts = file.split(path.sep);
  return parts[0] !== 'db' ? parts[0] : parts.length > 2 ? parts[1] : path.basename(parts[1]);
};

function imports(file: string): string[] {
  const src = readFileSync(path.join(ROOT, file), 'utf8');
  return [...src.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => path.normalize(path.join(path.dirname(file), m[1])));
}

const edges = new Map<string, Set<string>>();
for (const f of sources('db')) {
  for (const target of imports(f)) {
    const a = node(f), b = node(target.endsWith('.ts') ? target : `${target}.ts`);
    if (a !== b) (edges.get(a) ?? edges.set(a, new Set()).get(a)!).add(b);
  }
}

describe('import directions of db/', () => {
  it('has no pair of folders (or top-level modules) importing each other', () => {
    const pairs: string[] = [];
    for (const [a, bs] of edges) for (const b of bs) if (a < b && edges.get(b)?.has(a)) pairs.push(`${a} <-> ${b}`);
    expect(pairs).toEqual([]);
  });

  it('keeps db/model free of imports and db/platform free of entity folders', () => {
    expect([...(edges.get('model') ?? [])]).toEqual([]);
    const platform = [...(edges.get('platform') ?? [])].filter((b) => b !== 'model');
    expect(platform).toEqual([]);
  });

  it('never reaches up into api/, bot/ or pwa/', () => {
    const up = [...edges.entries()].flatMap(([a, bs]) => [...bs].filter((b) => ['api', 'bot', 'pwa'].includes(b)).map((b) => `${a} -> ${b}`));
    expect(up).toEqual([]);
  });

  it('sees the graph it checks (the walk found the entity folders and their imports)', () => {
    expect(edges.get('alerts')?.has('model')).toBe(true);
    expect(edges.get('events')?.has('rules')).toBe(true);
  });
});
