// The layering of the design document (docs/DESIGN.md), checked on the sources: nothing imports upward, structs/
// knows nothing of src/, and no module reaches itself through its imports.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/** Layer of a source file, lowest first; the front (index.ts, open-device.ts, cli) is highest. */
const LAYERS = [
  'structs',
  'src/sys',
  'src/pci',
  'src/iommu',
  'src/dma',
  'src/vfio',
  'src/regmap',
  'src/vfio-user',
  'src/trace',
  'front',
] as const;
type Layer = (typeof LAYERS)[number];

function layerOf(file: string): Layer {
  const rel = relative(ROOT, file);
  for (const l of LAYERS.slice(0, -1)) if (rel.startsWith(`${l}/`)) return l;
  if (rel === 'src/index.ts' || rel === 'src/open-device.ts' || rel === 'src/cli.ts' || rel.startsWith('src/cli/'))
    return 'front';
  throw new Error(`${rel} is in no layer`);
}

/** What each layer may import besides itself (docs/DESIGN.md). */
const ALLOWED: Record<Layer, Layer[]> = {
  structs: [],
  'src/sys': ['structs'],
  'src/pci': ['structs', 'src/sys'],
  'src/iommu': ['structs', 'src/sys'],
  'src/dma': ['structs', 'src/sys', 'src/iommu'],
  'src/vfio': ['structs', 'src/sys', 'src/pci', 'src/iommu', 'src/dma'],
  'src/regmap': ['structs', 'src/sys', 'src/pci', 'src/vfio'],
  'src/vfio-user': ['structs', 'src/sys', 'src/pci', 'src/iommu', 'src/dma', 'src/vfio', 'src/regmap'],
  'src/trace': ['structs', 'src/sys', 'src/pci', 'src/dma', 'src/vfio', 'src/regmap'],
  front: LAYERS.filter((l) => l !== 'front'), // the front may import every layer below it
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const files = [...sources(join(ROOT, 'structs')), ...sources(join(ROOT, 'src'))];

/** Every import and re-export of each file, `import type` included: relative ones resolved to files. */
const graph = new Map(
  files.map((f) => {
    const modules: string[] = [];
    const packages: string[] = [];
    for (const m of readFileSync(f, 'utf8').matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'/gm)) {
      if (m[1].startsWith('.')) modules.push(resolve(dirname(f), m[1].replace(/\.js$/, '.ts')));
      else packages.push(m[1]);
    }
    return [f, { modules, packages }];
  }),
);

/**
 * The import circles of a graph, one per strongly connected component (Tarjan's algorithm): each
 * as a path from its first member back to it, so the message shows which imports close it.
 */
function importCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) components.push(component);
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return components.map((c) => cyclePath(graph, new Set(c)));
}

/** A shortest circle through the component's first-sorted member, staying inside the component. */
function cyclePath(graph: ReadonlyMap<string, readonly string[]>, members: ReadonlySet<string>): string[] {
  const start = [...members].sort()[0];
  const parent = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(parent.get(path[0])!);
        return [...path, start];
      }
      if (!parent.has(w)) {
        parent.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start];
}

describe('layers', () => {
  it('no module imports upward', () => {
    const bad: string[] = [];
    for (const [f, deps] of graph) {
      const from = layerOf(f);
      for (const spec of deps.packages)
        if (from === 'structs' && spec !== 'koffi' && !spec.startsWith('node:'))
          bad.push(`${relative(ROOT, f)} imports ${spec}: structs/ may import koffi and Node's own modules only`);
      for (const target of deps.modules) {
        const to = layerOf(target);
        if (to !== from && !ALLOWED[from].includes(to))
          bad.push(`${relative(ROOT, f)} (${from}) imports ${relative(ROOT, target)} (${to})`);
      }
    }
    expect(files.length).toBeGreaterThan(40);
    expect(bad).toEqual([]);
  });

  it('reaches another layer through its index.ts only: one import path per module', () => {
    const deep: string[] = [];
    for (const [f, deps] of graph)
      for (const target of deps.modules)
        if (layerOf(target) !== layerOf(f) && !target.endsWith('/index.ts'))
          deep.push(`${relative(ROOT, f)} imports ${relative(ROOT, target)}`);
    expect(deep).toEqual([]);
  });

  it('no import circle, type-only imports included', () => {
    const cycles = importCycles(new Map([...graph].map(([f, d]) => [f, d.modules])));
    expect(cycles.map((c) => c.map((f) => relative(ROOT, f)).join(' -> '))).toEqual([]);
  });

  it('finds a circle when there is one', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', []],
    ]);
    expect(importCycles(g)).toEqual([['a', 'b', 'c', 'a']]);
    expect(importCycles(new Map([['a', ['a']]]))).toEqual([['a', 'a']]);
  });

  it('layouts and ioctl codes are declared in structs/ only (one struct, one declaration)', () => {
    const bad: string[] = [];
    for (const f of files) {
      if (layerOf(f) === 'structs') continue;
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/\b(koffi\.(?:struct|pack|union)|cStruct|_IOW?R?)\(/g))
        bad.push(`${relative(ROOT, f)}: ${m[1]}(`);
      for (const m of text.matchAll(/\b0x3b[0-9a-f]{2}\b/gi))
        bad.push(`${relative(ROOT, f)}: ${m[0]} looks like a VFIO ioctl number`);
    }
    expect(bad).toEqual([]);
  });
});
