/**
 * The one place that imports koffi for layouts: re-exports it and adds the helpers every
 * struct module uses (declaration that survives module re-evaluation, bigint-exact decode).
 */
import { createRequire } from 'node:module';
import { VfioError } from './errors.js';
import { VfioErrorCode } from './error-codes.js';

/**
 * koffi, through its CommonJS entry: `import koffi from 'koffi'` takes its ES module wrapper,
 * which loads the same native addon by way of three more modules and a package-exports
 * lookup, and costs about twice as long at start-up.
 */
const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');

export { koffi };
/** A koffi type: a C struct layout, a primitive or an array, with its `size` and `alignment` in bytes. */
export type TypeObject = ReturnType<typeof koffi.type>;

/**
 * The members of a struct for `cStruct`, in declaration order: a koffi type name (`'uint32_t'`) or
 * type each, or `[alignment, type]` for a member with its own alignment in bytes.
 */
export type Fields = Record<string, string | TypeObject | [number, string | TypeObject]>;

/**
 * Declares a C struct under its C name. koffi's type registry lives in the native addon and
 * outlives a module graph (test runners re-evaluate modules in one process), so a name that
 * is already registered is returned as it is when its layout is identical, and rejected
 * when it differs: two different layouts under one name are a bug.
 */
export function cStruct(name: string, fields: Fields, packed = false): TypeObject {
  const fresh = packed ? koffi.pack(fields) : koffi.struct(fields);
  let existing: TypeObject | undefined;
  try {
    existing = koffi.type(name);
  } catch {
    existing = undefined;
  }
  if (existing === undefined) return packed ? koffi.pack(name, fields) : koffi.struct(name, fields);
  if (describe(existing) !== describe(fresh))
    throw new VfioError(VfioErrorCode.INTERNAL, `struct ${name} is declared twice with different layouts`);
  return existing;
}

function describe(t: TypeObject): string {
  const members = (t as { members?: Record<string, { offset: number; type: TypeObject }> }).members ?? {};
  const fields = Object.entries(members).map(([n, m]) => `${n}@${m.offset}:${m.type.size}`);
  return `${t.size}/${t.alignment}{${fields.join(',')}}`;
}

const BIG = new Set(['Int64', 'UInt64']);

/**
 * Decodes a struct from `buf` at `offset`, with every 64-bit field as a `bigint`
 * (koffi gives a number when it fits in 53 bits; callers need one type, not two).
 */
export function decodeStruct<T = Record<string, unknown>>(buf: Uint8Array, type: TypeObject, offset = 0): T {
  return toBig(koffi.decode(buf, offset, type), type) as T;
}

function toBig(value: unknown, type: TypeObject): unknown {
  const t = type as { primitive?: string; members?: Record<string, { type: TypeObject }> };
  if (t.primitive !== undefined && BIG.has(t.primitive)) return BigInt(value as number | bigint);
  if (t.members && value && typeof value === 'object') {
    const out = value as Record<string, unknown>;
    for (const [name, m] of Object.entries(t.members)) out[name] = toBig(out[name], m.type);
    return out;
  }
  return value;
}

/** Encodes `value` (missing fields are zero) into `buf` at `offset`. */
export function encodeStruct(buf: Uint8Array, type: TypeObject, value: Record<string, unknown>, offset = 0): void {
  koffi.encode(buf, offset, type, value);
}

/** A zeroed buffer of `size` bytes (at least the struct's size) holding `value`. */
export function structBuffer(type: TypeObject, value: Record<string, unknown>, size = type.size): Buffer {
  const buf = Buffer.alloc(Math.max(size, type.size));
  encodeStruct(buf, type, value);
  return buf;
}
