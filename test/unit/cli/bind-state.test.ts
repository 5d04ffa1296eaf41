// The record vfio bind keeps (src/cli/bind-state.ts): the first binding of a device is the one
// kept, the file is whole after each save (written aside and renamed), and a file that is not
// the record is refused with what to do, not taken as empty.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BindState } from '../../../src/cli/bind-state.js';
import { parsePciAddress } from '../../../src/pci/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const scratch = () => {
  const d = mkdtempSync(join(tmpdir(), 'vfio-bind-state-'));
  dirs.push(d);
  return d;
};

const A = parsePciAddress('0000:00:04.0');
const B = parsePciAddress('0000:00:05.0');

describe('the record of bindings', () => {
  it('keeps the first binding of each device across saves, and forgets what was restored', () => {
    const path = join(scratch(), 'run/vfio-ts/bindings.json'); // its directory is made on save
    const s = new BindState(path);
    s.remember(A, { driver: 'virtio-pci', override: null });
    s.save();
    const again = new BindState(path);
    again.remember(A, { driver: 'vfio-pci', override: 'vfio-pci' }); // a second bind: not the original
    again.remember(B, { driver: null, override: null });
    again.save();
    expect(new BindState(path).original(A)).toEqual({ driver: 'virtio-pci', override: null });
    expect(new BindState(path).addresses()).toEqual([A, B]);
    const last = new BindState(path);
    last.forget(A);
    last.save();
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ devices: { [B]: { driver: null, override: null } } });
    expect(readdirSync(join(path, '..'))).toEqual(['bindings.json']); // no temporary file left
  });

  it('an absent file is an empty record; a file that is not one is refused with the fix', () => {
    const dir = scratch();
    expect(new BindState(join(dir, 'none.json')).addresses()).toEqual([]);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"something": 1}');
    expect(() => new BindState(bad)).toThrow(
      `the record of bindings ${bad} is not what vfio bind writes (no "devices" object): remove it, then bind devices back by hand`,
    );
    writeFileSync(bad, 'not json');
    expect(() => new BindState(bad)).toThrow(/is not what vfio bind writes \(Unexpected token/);
  });
});
