/**
 * CMSIS-SVD (the microcontroller vendors' register descriptions) into a map spec: one peripheral
 * becomes one map, its registers at their offsets from the peripheral's base; `access`,
 * `modifiedWriteValues`, `readAction`, `resetValue`, enumerated values, bit positions in any of
 * the three SVD forms, and `dim` arrays (`NAME%s` / `NAME[%s]`) by `dimIncrement`. Properties
 * not given on a register are inherited from the peripheral and the device, as SVD specifies.
 * Clusters and `derivedFrom` are not followed: a peripheral that needs them is refused.
 */
import { defineRegisterMap, type RegisterMap } from './map.js';
import type { Access, FieldSpec, MapSpec, RegisterSpec, RegisterWidth } from './spec.js';
import * as xml from './xml.js';
import type { XmlNode } from './xml.js';
import { RegisterMapError } from '../../structs/index.js';
import { hex } from '../sys/index.js';

/** Which peripheral to take, and what to call the map. */
export interface SvdOptions {
  /** The peripheral's name (default: the first). */
  peripheral?: string;
  /** The map's name (default: the peripheral's). */
  name?: string;
}

/** A field's `[msb, lsb]` from `bitOffset`+`bitWidth`, `lsb`+`msb` or `bitRange` `[7:4]`. */
function bitsOf(f: XmlNode, where: string): [number, number] {
  const range = /^\[(\d+):(\d+)\]$/.exec(xml.text(f, 'bitRange') ?? '');
  if (range) return [Number(range[1]), Number(range[2])];
  const lsb = xml.xmlSmall(xml.text(f, 'lsb'), where);
  const msb = xml.xmlSmall(xml.text(f, 'msb'), where);
  if (lsb !== undefined && msb !== undefined) return [msb, lsb];
  const offset = xml.xmlSmall(xml.text(f, 'bitOffset'), `${where} bitOffset`) ?? 0;
  return [offset + (xml.xmlSmall(xml.text(f, 'bitWidth'), `${where} bitWidth`) ?? 1) - 1, offset];
}

function fieldSpec(f: XmlNode, regAccess: Access | undefined, where: string): FieldSpec {
  const [msb, lsb] = bitsOf(f, where);
  const access = xml.xmlAccess(xml.text(f, 'access'), where);
  const write = xml.xmlWriteEffect(xml.text(f, 'modifiedWriteValues'), where);
  const readEffect = xml.xmlReadEffect(xml.text(f, 'readAction'), where);
  const values = xml
    .children(f.enumeratedValues as XmlNode | undefined, 'enumeratedValue')
    .filter((e) => xml.text(e, 'value') !== undefined && !/x/i.test((xml.text(e, 'value') ?? '').replace(/^0x/i, '')))
    // In an enumerated value, SVD's `#` starts binary digits (elsewhere it is hex).
    .map(
      (e) =>
        [
          xml.text(e, 'name') ?? '',
          Number(xml.xmlNumber(xml.text(e, 'value')?.replace(/^#/, '0b'), `${where} enumeratedValue`)),
        ] as const,
    );
  return {
    bits: msb === lsb ? lsb : [msb, lsb],
    ...(access && access !== regAccess ? { access } : {}),
    ...(write ? { write } : {}),
    ...(readEffect ? { readEffect } : {}),
    ...(values.length ? { values: Object.fromEntries(values) } : {}),
  };
}

/** `inherited` properties a register takes from its peripheral and device when it has none. */
function inherited(name: string, ...nodes: Array<XmlNode | undefined>): string | undefined {
  for (const n of nodes) {
    const v = xml.text(n, name);
    if (v !== undefined) return v;
  }
  return undefined;
}

function registerSpec(r: XmlNode, p: XmlNode, device: XmlNode, where: string): [string, RegisterSpec] {
  const size = xml.xmlSmall(inherited('size', r, p, device), `${where} size`) ?? 32;
  if (![8, 16, 32, 64].includes(size))
    throw new RegisterMapError(`${where}: size ${size}: registers of 8, 16, 32 or 64 bits only`);
  const access = xml.xmlAccess(inherited('access', r, p, device), where);
  const reset = xml.xmlNumber(inherited('resetValue', r, p, device), `${where} resetValue`);
  const fields = Object.fromEntries(
    xml
      .children(r.fields as XmlNode | undefined, 'field')
      .map((f) => [xml.text(f, 'name') ?? '', fieldSpec(f, access, `${where}.${xml.text(f, 'name')}`)]),
  );
  const dim = xml.xmlSmall(xml.text(r, 'dim'), `${where} dim`);
  const readEffect = xml.xmlReadEffect(xml.text(r, 'readAction'), where);
  const name = (xml.text(r, 'name') ?? '').replace(/\[?%s\]?/, '');
  return [
    name,
    {
      offset: xml.xmlSmall(xml.text(r, 'addressOffset'), `${where} addressOffset`) ?? 0,
      width: size as RegisterWidth,
      ...(access && access !== 'rw' ? { access } : {}),
      ...(readEffect ? { readEffect } : {}),
      ...(reset ? { reset: size === 64 ? hex(reset) : Number(reset & 0xffff_ffffn) } : {}),
      ...(Object.keys(fields).length ? { fields } : {}),
      ...(dim
        ? { count: dim, stride: xml.xmlSmall(xml.text(r, 'dimIncrement'), `${where} dimIncrement`) ?? size / 8 }
        : {}),
      ...(xml.text(r, 'description') ? { description: xml.text(r, 'description') } : {}),
    },
  ];
}

/** The map spec of one peripheral of a CMSIS-SVD device file. */
export function svdSpec(source: string, options: SvdOptions = {}): MapSpec {
  const device = xml.parseXml(source, 'SVD').device as XmlNode | undefined;
  if (!device) throw new RegisterMapError('SVD: no <device> element: not a CMSIS-SVD file');
  const all = xml.children(device.peripherals as XmlNode | undefined, 'peripheral');
  const p = options.peripheral === undefined ? all[0] : all.find((x) => xml.text(x, 'name') === options.peripheral);
  if (!p)
    throw new RegisterMapError(
      `SVD: no peripheral${options.peripheral ? ` '${options.peripheral}' (there are: ${all.map((x) => xml.text(x, 'name')).join(', ')})` : 's'}`,
    );
  const name = options.name ?? xml.text(p, 'name') ?? 'svd';
  const where = `SVD ${name}`;
  const regs = p.registers as XmlNode | undefined;
  if (xml.text(p, 'derivedFrom') !== undefined || xml.children(regs, 'cluster').length)
    throw new RegisterMapError(
      `${where}: derivedFrom and clusters are not supported; describe the peripheral's registers directly`,
    );
  const registers = Object.fromEntries(
    xml.children(regs, 'register').map((r) => registerSpec(r, p, device, `${where}: ${xml.text(r, 'name')}`)),
  );
  return { name, ...(xml.text(p, 'description') ? { description: xml.text(p, 'description') } : {}), registers };
}

/** A register map from one peripheral of a CMSIS-SVD file. */
export function fromSvd(source: string, options: SvdOptions = {}): RegisterMap {
  return defineRegisterMap(svdSpec(source, options));
}
