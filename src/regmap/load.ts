/**
 * A register map from a file: JSON (a map spec), IP-XACT or CMSIS-SVD, told apart by the root
 * element; and the lookup `vfio read --map NAME` uses: a shipped map's name, or a file.
 */
import { readFileSync } from 'node:fs';
import { fromIpXact, type IpXactOptions } from './ipxact.js';
import { defineRegisterMap, type RegisterMap } from './map.js';
import { builtinMaps } from './maps/index.js';
import type { MapSpec } from './spec.js';
import { fromSvd, type SvdOptions } from './svd.js';
import { RegisterMapError } from '../../structs/index.js';

/** Which part of an XML file to take (IP-XACT's memory map, SVD's peripheral). */
export type LoadOptions = IpXactOptions & SvdOptions;

/** A map from the text of a JSON map spec, an IP-XACT component or a CMSIS-SVD file; `what` names it in errors. */
export function parseRegisterMap(textOf: string, what = 'register map', options: LoadOptions = {}): RegisterMap {
  const t = textOf.trimStart();
  if (t.startsWith('{')) {
    let spec: unknown;
    try {
      spec = JSON.parse(t);
    } catch (e) {
      throw new RegisterMapError(`${what}: not valid JSON: ${e instanceof Error ? e.message : String(e)}`, {
        cause: e,
      });
    }
    return defineRegisterMap(spec as MapSpec);
  }
  if (!t.startsWith('<')) throw new RegisterMapError(`${what}: neither JSON nor XML (IP-XACT or CMSIS-SVD)`);
  // The root element, past the XML declaration, comments and any namespace prefix.
  const root = /<(?![?!])(?:[\w.-]+:)?([\w.-]+)/.exec(t)?.[1];
  if (root === 'device') return fromSvd(t, options);
  if (root === 'component') return fromIpXact(t, options);
  throw new RegisterMapError(`${what}: root element <${root}> is neither an IP-XACT <component> nor an SVD <device>`);
}

/** A map from a file: JSON, IP-XACT or CMSIS-SVD (`loadRegisterMap('facto.xml')`). */
export function loadRegisterMap(path: string, options: LoadOptions = {}): RegisterMap {
  return parseRegisterMap(readFileSync(path, 'utf8'), path, options);
}

/** A shipped map by name (`e1000e`, `nvme`), else a file by path. */
export function findRegisterMap(nameOrPath: string): RegisterMap {
  const builtin = Object.hasOwn(builtinMaps, nameOrPath) ? builtinMaps[nameOrPath] : undefined;
  if (builtin) return builtin;
  if (!/[./]/.test(nameOrPath))
    throw new RegisterMapError(
      `no register map '${nameOrPath}': the shipped maps are ${Object.keys(builtinMaps).join(', ')}; or give a file (.json, IP-XACT or SVD .xml)`,
    );
  return loadRegisterMap(nameOrPath);
}
