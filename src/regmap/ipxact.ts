/**
 * IP-XACT (IEEE 1685, the 2009 `spirit:` and 2014/2022 `ipxact:` schemas: what Vivado's
 * packaged IP and PeakRDL's SystemRDL export produce) into a map spec. One memory map becomes
 * one register map: its address blocks' registers at block base + register offset, `access`
 * (register, else block, else derived from the fields), `modifiedWriteValue` as the field's
 * write effect, `readAction` as its read effect, enumerated values, resets (register or field
 * level) and `dim` arrays. A register wider than its block's bus width is reached in accesses
 * of that width. Register files (`registerFile`) are flattened into their registers.
 */
import { defineRegisterMap, type RegisterMap } from './map.js';
import type { Access, FieldSpec, MapSpec, RegisterSpec, RegisterWidth } from './spec.js';
import {
  children,
  parseXml,
  text,
  xmlAccess,
  xmlNumber,
  xmlReadEffect,
  xmlSmall,
  xmlWriteEffect,
  type XmlNode,
} from './xml.js';
import { RegisterMapError } from '../../structs/index.js';
import { hex } from '../sys/index.js';

/** Which part of the IP-XACT file to take, and what to call the map. */
export interface IpXactOptions {
  /** The memory map's name (default: the first). */
  memoryMap?: string;
  /** The map's name (default: the component's name). */
  name?: string;
  /** The BAR the registers are in (default 0). */
  bar?: number;
}

/** The reset value of `node` (2009: `reset/value`; 2014: `resets/reset/value`). */
function resetOf(node: XmlNode, where: string): bigint | undefined {
  const direct = children(node, 'reset')[0];
  const listed = children(node.resets as XmlNode | undefined, 'reset')[0];
  return xmlNumber(text(direct ?? listed, 'value'), `${where} reset`);
}

function fieldSpec(f: XmlNode, regAccess: Access | undefined, where: string): [string, FieldSpec, bigint | undefined] {
  const name = text(f, 'name') ?? '';
  const at = `${where}.${name}`;
  const lsb = xmlSmall(text(f, 'bitOffset'), `${at} bitOffset`) ?? 0;
  const width = xmlSmall(text(f, 'bitWidth'), `${at} bitWidth`) ?? 1;
  const values = children(f.enumeratedValues as XmlNode | undefined, 'enumeratedValue').map(
    (e) => [text(e, 'name') ?? '', xmlNumber(text(e, 'value'), `${at} enumeratedValue`) ?? 0n] as const,
  );
  const access = xmlAccess(text(f, 'access'), at);
  const write = xmlWriteEffect(text(f, 'modifiedWriteValue'), at);
  const readEffect = xmlReadEffect(text(f, 'readAction'), at);
  const spec: FieldSpec = {
    bits: width === 1 ? lsb : [lsb + width - 1, lsb],
    ...(access && access !== regAccess ? { access } : {}),
    ...(write ? { write } : {}),
    ...(readEffect ? { readEffect } : {}),
    ...(values.length
      ? { values: Object.fromEntries(values.map(([l, v]) => [l, v <= 0xffff_ffffn ? Number(v) : v])) }
      : {}),
    ...(text(f, 'description') ? { description: text(f, 'description') } : {}),
  };
  const reset = resetOf(f, at);
  return [name, spec, reset === undefined ? undefined : reset << BigInt(lsb)];
}

/** The register's access: its own, else its block's, else what its fields allow. */
function registerAccess(r: XmlNode, blockAccess: Access | undefined, where: string): Access | undefined {
  const own = xmlAccess(text(r, 'access'), where) ?? blockAccess;
  if (own) return own;
  const fields = children(r, 'field').map((f) => xmlAccess(text(f, 'access'), where) ?? 'rw');
  if (fields.length && fields.every((a) => a === 'ro')) return 'ro';
  if (fields.length && fields.every((a) => a === 'wo')) return 'wo';
  return undefined;
}

function registerSpec(
  r: XmlNode,
  base: number,
  busWidth: number | undefined,
  blockAccess: Access | undefined,
  where: string,
): RegisterSpec {
  const size = xmlSmall(text(r, 'size'), `${where} size`) ?? 32;
  if (![8, 16, 32, 64].includes(size))
    throw new RegisterMapError(`${where}: size ${size}: registers of 8, 16, 32 or 64 bits only`);
  const access = registerAccess(r, blockAccess, where);
  let reset = resetOf(r, where);
  const fields: Record<string, FieldSpec> = {};
  for (const f of children(r, 'field')) {
    const [name, spec, fieldReset] = fieldSpec(f, access, where);
    fields[name] = spec;
    if (fieldReset !== undefined) reset = (reset ?? 0n) | fieldReset;
  }
  const dims = children(r, 'dim').map(
    (d, i) => xmlSmall(typeof d === 'object' ? text(d, '#text') : String(d), `${where} dim ${i}`) ?? 1,
  );
  const stride = xmlSmall(text(r, 'stride'), `${where} stride`);
  const readEffect = xmlReadEffect(text(r, 'readAction'), where);
  return {
    offset: base + (xmlSmall(text(r, 'addressOffset'), `${where} addressOffset`) ?? 0),
    width: size as RegisterWidth,
    ...(busWidth && busWidth < size && [8, 16, 32].includes(busWidth)
      ? { accessWidth: busWidth as RegisterWidth }
      : {}),
    ...(access && access !== 'rw' ? { access } : {}),
    ...(readEffect ? { readEffect } : {}),
    ...(reset ? { reset: size === 64 ? hex(reset) : Number(reset) } : {}),
    ...(Object.keys(fields).length ? { fields } : {}),
    ...(dims.length ? { count: dims.reduce((a, b) => a * b, 1), ...(stride ? { stride } : {}) } : {}),
    ...(text(r, 'description') ? { description: text(r, 'description') } : {}),
  };
}

/** The registers of a block or register file at `base`, register files flattened (`FILE_REG`). */
function collect(
  node: XmlNode,
  base: number,
  busWidth: number | undefined,
  access: Access | undefined,
  prefix: string,
  out: Record<string, RegisterSpec>,
  where: string,
): void {
  for (const r of children(node, 'register')) {
    const name = `${prefix}${text(r, 'name') ?? ''}`;
    if (name in out) throw new RegisterMapError(`${where}: two registers named ${name}`);
    out[name] = registerSpec(r, base, busWidth, access, `${where}: ${name}`);
  }
  for (const f of children(node, 'registerFile')) {
    const offset = base + (xmlSmall(text(f, 'addressOffset'), `${where} registerFile addressOffset`) ?? 0);
    collect(f, offset, busWidth, access, `${prefix}${text(f, 'name') ?? ''}_`, out, where);
  }
}

/** The map spec of an IP-XACT component's memory map (throws `RegisterMapError` naming what is wrong). */
export function ipXactSpec(xml: string, options: IpXactOptions = {}): MapSpec {
  const doc = parseXml(xml, 'IP-XACT');
  const component = doc.component as XmlNode | undefined;
  if (!component) throw new RegisterMapError('IP-XACT: no <component> element: not an IP-XACT component description');
  const maps = children(component.memoryMaps as XmlNode | undefined, 'memoryMap');
  const map = options.memoryMap === undefined ? maps[0] : maps.find((m) => text(m, 'name') === options.memoryMap);
  const names = maps.map((m) => text(m, 'name')).join(', ');
  if (!map)
    throw new RegisterMapError(
      `IP-XACT: no memory map${options.memoryMap ? ` '${options.memoryMap}' (there are: ${names || 'none'})` : 's'}`,
    );
  const name = options.name ?? text(component, 'name') ?? 'ipxact';
  const registers: Record<string, RegisterSpec> = {};
  for (const block of children(map, 'addressBlock')) {
    const where = `IP-XACT ${name}, address block ${text(block, 'name') ?? '?'}`;
    const base = xmlSmall(text(block, 'baseAddress'), `${where} baseAddress`) ?? 0;
    const busWidth = xmlSmall(text(block, 'width'), `${where} width`);
    collect(block, base, busWidth, xmlAccess(text(block, 'access'), where), '', registers, where);
  }
  const description = text(component, 'description');
  return { name, ...(options.bar ? { bar: options.bar } : {}), ...(description ? { description } : {}), registers };
}

/** A register map from an IP-XACT component description: `fromIpXact(readFileSync(f, 'utf8'))`. */
export function fromIpXact(xml: string, options: IpXactOptions = {}): RegisterMap {
  return defineRegisterMap(ipXactSpec(xml, options));
}
