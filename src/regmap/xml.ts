/**
 * What the IP-XACT and CMSIS-SVD importers share: the XML parser (fast-xml-parser, namespace
 * prefixes dropped, repeated elements always arrays, text kept as text), their number syntax,
 * and their access and write-effect words in this library's terms.
 */
import { createRequire } from 'node:module';
import type { XMLParser } from 'fast-xml-parser';
import type { Access, ReadEffect, WriteEffect } from './spec.js';
import { RegisterMapError } from '../../structs/index.js';

/** A parsed element: child elements by name (repeated ones in `REPEATED` as arrays), text as strings. */
export type XmlNode = { readonly [name: string]: unknown };

/** Elements that may repeat in either format: always arrays, however many there are. */
const REPEATED = new Set([
  'memoryMap',
  'addressBlock',
  'register',
  'registerFile',
  'field',
  'enumeratedValue',
  'reset',
  'dim',
  'peripheral',
  'cluster',
]);

let parserClass: typeof XMLParser | undefined;

/**
 * fast-xml-parser's `XMLParser`, loaded on the first parse rather than when the package is
 * imported: most programs never read an XML register map. Its CommonJS build is one
 * self-contained file that `require` loads synchronously (so the importers stay synchronous)
 * and several times faster than the tree of ES modules its `import` entry loads.
 */
function xmlParserClass(): typeof XMLParser {
  parserClass ??= (createRequire(import.meta.url)('fast-xml-parser') as typeof import('fast-xml-parser')).XMLParser;
  return parserClass;
}

/** Parses `xml`; throws naming `what` when it is not well-formed. */
export function parseXml(xml: string, what: string): XmlNode {
  const Parser = xmlParserClass();
  try {
    return new Parser({
      removeNSPrefix: true,
      ignoreAttributes: true,
      parseTagValue: false,
      isArray: (name) => REPEATED.has(name),
    }).parse(xml, true) as XmlNode;
  } catch (e) {
    throw new RegisterMapError(`${what}: not well-formed XML: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
  }
}

/** The child elements `name` of `node` (none: an empty array). */
export function children(node: XmlNode | undefined, name: string): XmlNode[] {
  const v = node?.[name];
  return Array.isArray(v) ? (v as XmlNode[]) : v === undefined || v === '' ? [] : [v as XmlNode];
}

/** The text of child `name`, trimmed; undefined when absent. */
export function text(node: XmlNode | undefined, name: string): string | undefined {
  const v = node?.[name];
  const first: unknown = Array.isArray(v) ? v[0] : v;
  if (first === undefined || first === null) return undefined;
  if (typeof first === 'object') return text(first as XmlNode, '#text');
  return (typeof first === 'string' ? first : typeof first === 'number' ? String(first) : '').trim();
}

/**
 * A number in IP-XACT or SVD syntax: decimal (with a K/M/G/T scale in IP-XACT 2009),
 * `0x1f`, `#1f` (hex), `0b101`, SystemVerilog `'h1f` / `32'h1f` / `'b101` / `'d31`, `_` between digits.
 */
export function xmlNumber(value: string | undefined, where: string): bigint | undefined {
  if (value === undefined || value === '') return undefined;
  const t = value.replace(/_/g, '').trim();
  const sv = /^(?:\d+)?'([hdbo])([0-9a-f]+)$/i.exec(t);
  if (sv) return BigInt(`${{ h: '0x', d: '', b: '0b', o: '0o' }[sv[1].toLowerCase() as 'h']}${sv[2]}`);
  if (/^(0x|#)[0-9a-f]+$/i.test(t)) return BigInt(`0x${t.replace(/^(0x|#)/i, '')}`);
  if (/^0b[01]+$/i.test(t)) return BigInt(t);
  const scaled = /^(\d+)([kmgt])?$/i.exec(t);
  if (scaled) return BigInt(scaled[1]) << BigInt(10 * ' kmgt'.indexOf((scaled[2] ?? ' ').toLowerCase()));
  throw new RegisterMapError(`${where}: '${value}' is not a number`);
}

/** `xmlNumber` as a safe integer number. */
export function xmlSmall(value: string | undefined, where: string): number | undefined {
  const v = xmlNumber(value, where);
  return v === undefined ? undefined : Number(v);
}

/** IP-XACT and SVD access words: `read-only`, `write-only`, `read-write`, `writeOnce`, `read-writeOnce`. */
export function xmlAccess(value: string | undefined, where: string): Access | undefined {
  if (value === undefined) return undefined;
  const access = (
    { 'read-only': 'ro', 'write-only': 'wo', writeOnce: 'wo', 'read-write': 'rw', 'read-writeOnce': 'rw' } as const
  )[value as 'read-only'];
  if (!access) throw new RegisterMapError(`${where}: access '${value}' is not an IP-XACT/SVD access`);
  return access;
}

/**
 * `modifiedWriteValue(s)`: the kinds with a neutral value become a write effect; `clear`, `set`
 * and `modify` (any write clears, sets or changes the field) have none to write, so they are left
 * as plain fields.
 */
export function xmlWriteEffect(value: string | undefined, where: string): WriteEffect | undefined {
  if (value === undefined || ['clear', 'set', 'modify'].includes(value)) return undefined;
  const known = ['oneToClear', 'oneToSet', 'oneToToggle', 'zeroToClear', 'zeroToSet', 'zeroToToggle'];
  if (!known.includes(value)) throw new RegisterMapError(`${where}: modifiedWriteValue '${value}' is not known`);
  return value as WriteEffect;
}

/** `readAction`: `clear`, `set`, `modify` (and `modifyExternal`, something else reacts to the read). */
export function xmlReadEffect(value: string | undefined, where: string): ReadEffect | undefined {
  if (value === undefined) return undefined;
  if (value === 'clear' || value === 'set' || value === 'modify') return value;
  if (value === 'modifyExternal') return 'modify';
  throw new RegisterMapError(`${where}: readAction '${value}' is not known`);
}
