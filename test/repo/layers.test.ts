// The layering of the design document (docs/DESIGN.md), checked on the sources: nothing imports upward, and structs/
// knows nothing of src/.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/** Layer of a source file, lowest first; the front (index.ts, cli) is highest. */
const LAYERS = ['structs', 'src/sys', 'src/pci', 'src/iommu', 'src/dma', 'src/vfio', 'src/regmap', 'front'] as const;
type Layer = (typeof LAYERS)[number];

function layerOf(file: string): Layer {
  const rel = relative(ROOT, file);
  for (const l of LAYERS.slice(0, -1)) if (rel.startsWith(`${l}/`)) return l;
  if (rel === 'src/index.ts' || rel === 'src/cli.ts' || rel.startsWith('src/cli/')) return 'front';
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
  front: ['structs', 'src/sys', 'src/pci', 'src/iommu', 'src/dma', 'src/vfio', 'src/regmap'],
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const files = [...sources(join(ROOT, 'structs')), ...sources(join(ROOT, 'src'))];

describe('layers', () => {
  it('no module imports upward', () => {
    const bad: string[] = [];
    for (const f of files) {
      const from = layerOf(f);
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'/gm)) {
        const spec = m[1];
        if (!spec.startsWith('.')) {
          if (from === 'structs' && spec !== 'koffi')
            bad.push(`${relative(ROOT, f)} imports ${spec}: structs/ may import koffi only`);
          continue;
        }
        const target = resolve(dirname(f), spec.replace(/\.js$/, '.ts'));
        const to = layerOf(target);
        if (to !== from && !ALLOWED[from].includes(to))
          bad.push(`${relative(ROOT, f)} (${from}) imports ${relative(ROOT, target)} (${to})`);
      }
    }
    expect(files.length).toBeGreaterThan(40);
    expect(bad).toEqual([]);
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
