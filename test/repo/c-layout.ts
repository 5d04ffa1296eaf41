/**
 * Compiles a C program against the machine's kernel headers and returns what C says about
 * sizes, offsets and macro values, for comparison with what `structs/` declares.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TypeObject } from '../../structs/index.js';
import { USER_CACHE, kernelFragmentHash, vfioKernelDir } from '../../scripts/vm/paths.mjs';

export const INSTALL_HINT = 'install a C compiler and the kernel headers: apt-get install gcc linux-libc-dev';

export interface LayoutQuery {
  structs: Record<string, TypeObject>;
  /** struct name -> flexible array member name (its offset must equal the JS struct's size). */
  flexible: Record<string, string>;
  /** macro name -> value, compared as unsigned 64-bit. */
  macros: Record<string, number | bigint>;
  headers: string[];
  /** An include directory searched before the system's (the built guest kernel's uapi headers). */
  include?: string;
}

/**
 * The uapi headers of the guest kernel that scripts/vm/setup builds (cached outside the
 * clone, see scripts/vm/build-kernel); throws with the fix when it has not been built.
 */
export function builtKernelHeaders(): string {
  const built = vfioKernelDir();
  const dir = join(built ?? join(USER_CACHE, 'kernel-vfio', `VERSION-${kernelFragmentHash()}`), 'include');
  if (!existsSync(join(dir, 'linux', 'iommufd.h'))) {
    throw new Error(
      `no ${join(dir, 'linux', 'iommufd.h')}: the guest kernel with iommufd has not been built here; run scripts/vm/setup (it builds it once, about 5 minutes)`,
    );
  }
  return dir;
}

/** One fact, e.g. `sizeof(struct vfio_irq_set)` or `offsetof(struct vfio_irq_set, count)`. */
export interface Fact {
  key: string;
  c: bigint;
  js: bigint;
}

function memberNames(t: TypeObject): string[] {
  return Object.keys((t as { members?: Record<string, unknown> }).members ?? {});
}

/** The facts JS declares for the query, by key. */
export function jsFacts(q: LayoutQuery): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const [name, t] of Object.entries(q.structs)) {
    out.set(`sizeof(struct ${name})`, BigInt(t.size));
    out.set(`alignof(struct ${name})`, BigInt(t.alignment));
    const members = (t as { members?: Record<string, { offset: number; type: TypeObject }> }).members ?? {};
    for (const [field, m] of Object.entries(members)) {
      out.set(`offsetof(struct ${name}, ${field})`, BigInt(m.offset));
      out.set(`sizeof(((struct ${name} *)0)->${field})`, BigInt(m.type.size));
    }
    const flex = q.flexible[name];
    if (flex) out.set(`offsetof(struct ${name}, ${flex})`, BigInt(t.size));
  }
  for (const [name, v] of Object.entries(q.macros)) out.set(name, BigInt.asUintN(64, BigInt(v)));
  return out;
}

/** Builds and runs the C program; returns the facts C reports, by the same keys. */
export function cFacts(q: LayoutQuery): Map<string, bigint> {
  const keys = [...jsFacts(q).keys()];
  const lines = keys.map((k) => {
    const expr = k.startsWith('alignof(') ? `_Alignof(${k.slice(8, -1)})` : k;
    return `  printf("%s=%llu\\n", ${JSON.stringify(k)}, (unsigned long long)(${expr}));`;
  });
  const src = [
    '#include <stdio.h>',
    '#include <stddef.h>',
    ...q.headers.map((h) => `#include <${h}>`),
    'int main(void) {',
    ...lines,
    '  return 0;',
    '}',
    '',
  ].join('\n');
  const dir = mkdtempSync(join(tmpdir(), 'vfio-ts-layout-'));
  try {
    const c = join(dir, 'layout.c');
    const exe = join(dir, 'layout');
    writeFileSync(c, src);
    try {
      execFileSync('cc', ['-std=gnu11', '-Wall', ...(q.include ? ['-I', q.include] : []), '-o', exe, c], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (e) {
      const err = e as { code?: string; stderr?: Buffer };
      if (err.code === 'ENOENT') throw new Error(`no C compiler (cc) on this machine: ${INSTALL_HINT}`, { cause: e });
      throw new Error(
        `compiling the layout program failed (missing header?): ${INSTALL_HINT}\n${err.stderr?.toString() ?? ''}`,
        { cause: e },
      );
    }
    const out = execFileSync(exe, { encoding: 'utf8' });
    const facts = new Map<string, bigint>();
    for (const line of out.trim().split('\n')) {
      const i = line.lastIndexOf('=');
      facts.set(line.slice(0, i), BigInt(line.slice(i + 1)));
    }
    return facts;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every fact where C and JS disagree (or one side lacks it). */
export function mismatches(c: Map<string, bigint>, js: Map<string, bigint>): string[] {
  const bad: string[] = [];
  for (const [k, v] of js) {
    const cv = c.get(k);
    if (cv !== v) bad.push(`${k}: C says ${cv}, structs/ says ${v}`);
  }
  return bad;
}

export { memberNames };
