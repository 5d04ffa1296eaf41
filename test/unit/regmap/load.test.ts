// Loading a register map from a file (src/regmap/load.ts): JSON, IP-XACT and CMSIS-SVD told
// apart by their content, and the shipped maps found by name.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findRegisterMap, loadRegisterMap, nvmeMap } from '../../../src/index.js';
import { SPIRIT, SVD } from '../../support/regmap-xml.js';

const dir = mkdtempSync(join(tmpdir(), 'regmap-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loading a map', () => {
  it('tells JSON, IP-XACT and SVD apart by content; finds shipped maps by name', () => {
    writeFileSync(join(dir, 'm.json'), JSON.stringify({ name: 'j', registers: { R: { offset: '0x10' } } }));
    writeFileSync(join(dir, 'svd.xml'), SVD);
    writeFileSync(join(dir, 'ip.xml'), SPIRIT);
    expect(loadRegisterMap(join(dir, 'm.json')).registers.R.offset).toBe(0x10);
    expect(loadRegisterMap(join(dir, 'svd.xml')).name).toBe('TIM1');
    expect(loadRegisterMap(join(dir, 'ip.xml')).name).toBe('uart');
    expect(findRegisterMap('nvme')).toBe(nvmeMap);
    expect(() => findRegisterMap('nvmee')).toThrow(/no register map 'nvmee': the shipped maps are e1000e, nvme/);
    writeFileSync(join(dir, 'bad.json'), '{ "name": "b", "registers": { "R": { "offset": 0, "widht": 32 } } }');
    expect(() => loadRegisterMap(join(dir, 'bad.json'))).toThrow(/register map b: R: unknown key 'widht'/);
  });
});
