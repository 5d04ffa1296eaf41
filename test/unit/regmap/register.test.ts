// Register maps against a recording fake region: the exact device accesses of every operation of
// a register (src/regmap/register.ts; split 64-bit registers lowest address first, refused
// implicit reads, one write for a write-1-to-clear), and that printing, inspecting and dumping
// read only what they may (the bound map and dump() of src/regmap/map.ts).
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { defineRegisterMap, RegisterMapError, type RegisterAccess } from '../../../src/index.js';

/** Plain memory behind the accessors, logging each access as `r32 0xc0` / `w32 0xc0 0x80`. */
class Recorder implements RegisterAccess {
  readonly log: string[] = [];
  readonly name = 'fake BAR';
  readonly #view: DataView;
  /** Offsets whose value reads as 0 after one read (a clear-on-read register). */
  readonly clearOnRead = new Set<number>();

  constructor(readonly size = 0x1000) {
    this.#view = new DataView(new ArrayBuffer(size));
  }

  set32(offset: number, v: number): void {
    this.#view.setUint32(offset, v, true);
  }

  #read<T>(bits: number, offset: number, get: () => T): T {
    const v = get();
    this.log.push(`r${bits} 0x${offset.toString(16)}`);
    if (this.clearOnRead.has(offset)) for (let i = 0; i < bits / 8; i++) this.#view.setUint8(offset + i, 0);
    return v;
  }

  read8 = (o: number) => this.#read(8, o, () => this.#view.getUint8(o));
  read16 = (o: number) => this.#read(16, o, () => this.#view.getUint16(o, true));
  read32 = (o: number) => this.#read(32, o, () => this.#view.getUint32(o, true));
  read64 = (o: number) => this.#read(64, o, () => this.#view.getBigUint64(o, true));
  write8 = (o: number, v: number) => this.#write(8, o, v, () => this.#view.setUint8(o, v));
  write16 = (o: number, v: number) => this.#write(16, o, v, () => this.#view.setUint16(o, v, true));
  write32 = (o: number, v: number) => this.#write(32, o, v, () => this.#view.setUint32(o, v, true));
  write64 = (o: number, v: bigint) => this.#write(64, o, v, () => this.#view.setBigUint64(o, v, true));

  #write(bits: number, offset: number, v: number | bigint, set: () => void): void {
    this.log.push(`w${bits} 0x${offset.toString(16)} 0x${v.toString(16)}`);
    set();
  }

  /** The log so far, emptied. */
  take(): string[] {
    return this.log.splice(0);
  }
}

const demo = defineRegisterMap({
  name: 'demo',
  registers: {
    CTRL: {
      offset: 0x00,
      reset: 0x0000_0040,
      fields: {
        EN: { bits: 0 },
        MODE: { bits: [5, 4], values: { off: 0, slow: 1, fast: 2 } },
        LINK: { bits: 6 },
        RST: { bits: 8, write: 'selfClearing' },
        ERR: { bits: 9, write: 'oneToClear' },
        READY: { bits: 10, write: 'zeroToClear' },
        VERSION: { bits: [31, 24], access: 'ro' },
      },
    },
    STATUS: { offset: 0x04, access: 'ro', fields: { UP: { bits: 0 }, SPEED: { bits: [2, 1] } } },
    CAUSE: {
      offset: 0x08,
      readEffect: 'clear',
      write: 'oneToClear',
      fields: { RX: { bits: 0 }, TX: { bits: 1 }, ERR: { bits: [7, 4] } },
    },
    SET: { offset: 0x0c, access: 'wo', write: 'oneToSet', fields: { RX: { bits: 0 }, TX: { bits: 1 } } },
    COUNT: { offset: 0x10, access: 'ro', readEffect: 'clear' },
    BASE: { offset: 0x18, width: 64, accessWidth: 32, fields: { ADDR: { bits: [63, 12] } } },
    WIDE: { offset: 0x20, width: 64 },
    BYTE: { offset: 0x28, width: 8, fields: { LO: { bits: [3, 0] } } },
    HALF: { offset: 0x2a, width: 16 },
    DB: { offset: 0x100, count: 4, stride: 8, access: 'wo', fields: { TAIL: { bits: [15, 0] } } },
  },
});

function setup() {
  const region = new Recorder();
  const regs = demo.bind(region);
  return { region, regs };
}

describe('register map accesses', () => {
  it('read: one access of the register width; 8, 16, 32 and 64 bits', () => {
    const { region, regs } = setup();
    region.set32(0x04, 0b101);
    expect(String(regs.STATUS.read())).toBe('STATUS = 0x00000005 { UP: 1, SPEED: 2 }');
    regs.WIDE.read();
    regs.BYTE.read();
    regs.HALF.read();
    expect(region.take()).toEqual(['r32 0x4', 'r64 0x20', 'r8 0x28', 'r16 0x2a']);
  });

  it('a 64-bit register with 32-bit access: two reads and two writes, lowest address first', () => {
    const { region, regs } = setup();
    regs.BASE.write(0x1234_5678_9abc_d000n);
    expect(region.take()).toEqual(['w32 0x18 0x9abcd000', 'w32 0x1c 0x12345678']);
    const v = regs.BASE.read();
    expect(region.take()).toEqual(['r32 0x18', 'r32 0x1c']);
    expect(v.raw).toBe(0x1234_5678_9abc_d000n);
    expect(v.ADDR).toBe(0x1234_5678_9abc_dn);
    regs.BASE.modify({ ADDR: 1n });
    expect(region.take()).toEqual(['r32 0x18', 'r32 0x1c', 'w32 0x18 0x1000', 'w32 0x1c 0x0']);
  });

  it('write(fields): from the reset value (or zero), one write; enum labels; write-effect fields neutral', () => {
    const { region, regs } = setup();
    regs.CTRL.write({ EN: 1, MODE: 'fast' });
    // reset 0x40 (LINK), EN, MODE=2, READY (zero-to-clear) written 1 = leave it
    expect(region.take()).toEqual(['w32 0x0 0x461']);
    regs.CTRL.write({ MODE: 'slow' }, { base: 'zero' });
    expect(region.take()).toEqual(['w32 0x0 0x410']);
    regs.CTRL.write(0xdeadbeef);
    expect(region.take()).toEqual(['w32 0x0 0xdeadbeef']); // a raw value goes as it is
    expect(regs.CTRL.encode({ RST: 1 })).toBe(0x540);
  });

  it('modify: one read, one write; write-1-to-clear, write-0-to-clear and self-clearing fields not named are neutral', () => {
    const { region, regs } = setup();
    region.set32(0x00, 0x0100_0000 | (1 << 9) | (1 << 8) | 1); // VERSION 1, ERR pending, RST reads 1, EN
    regs.CTRL.modify({ MODE: 'fast' });
    // ERR 0 (not cleared), RST 0 (no second reset), READY 1 (not cleared), EN kept
    expect(region.take()).toEqual(['r32 0x0', `w32 0x0 0x${(0x0100_0000 | (1 << 10) | 0x20 | 1).toString(16)}`]);
    regs.CTRL.modify({ ERR: 1 });
    expect(region.take().slice(1)).toEqual([
      `w32 0x0 0x${(0x0100_0000 | (1 << 10) | (1 << 9) | 0x20 | 1).toString(16)}`,
    ]);
  });

  it('modify refuses, before any access, a register whose reads clear it, and a write-only one; with { from } it writes once', () => {
    const { region, regs } = setup();
    expect(() => regs.CAUSE.modify({ RX: 1 })).toThrow(
      /^demo\.CAUSE modify: reading the register clears it, so modify\(\) does not read it: pass \{ from: value \}/,
    );
    expect(() => regs.SET.modify({ RX: 1 })).toThrow(/demo\.SET modify: the register is write-only/);
    expect(region.take()).toEqual([]);
    regs.CAUSE.modify({ TX: 1 }, { from: 0x13 });
    expect(region.take()).toEqual(['w32 0x8 0x2']); // RX and ERR neutral (0): only TX is cleared
    regs.CAUSE.modify({ ERR: 0b11 }, { from: regs.CAUSE.decode(0) });
    expect(region.take()).toEqual(['w32 0x8 0x30']);
  });

  it('clear: one write, no read; whole fields by name, or some bits of a field', () => {
    const { region, regs } = setup();
    regs.CAUSE.clear('RX');
    regs.CAUSE.clear('TX', 'ERR');
    regs.CAUSE.clear({ ERR: 0b0100 });
    expect(region.take()).toEqual(['w32 0x8 0x1', 'w32 0x8 0xf2', 'w32 0x8 0x40']);
  });

  it('clear refuses, before any access, a register with plain read-write fields, and a field that is not write-1-to-clear', () => {
    const { region, regs } = setup();
    expect(() => regs.CTRL.clear('ERR')).toThrow(/its fields EN, MODE, LINK are plain read-write.*use modify\(\)/);
    // @ts-expect-error RX of SET is write-1-to-set, not write-1-to-clear
    expect(() => regs.SET.clear('RX')).toThrow(/RX is not write-1-to-clear or write-0-to-clear \(oneToSet\)/);
    expect(() => regs.STATUS.clear()).toThrow(/read-only/);
    expect(region.take()).toEqual([]);
  });

  it('refuses reading a write-only register and writing a read-only one or a read-only field, with no access', () => {
    const { region, regs } = setup();
    expect(() => regs.SET.read()).toThrow(/^demo\.SET read: the register is write-only$/);
    // @ts-expect-error STATUS is read-only: it has no writable fields
    expect(() => regs.STATUS.write({ UP: 1 })).toThrow(/read-only/);
    // @ts-expect-error VERSION is a read-only field
    expect(() => regs.CTRL.write({ VERSION: 1 })).toThrow(/^demo\.CTRL write: demo\.CTRL\.VERSION is read-only$/);
    // @ts-expect-error VERSION is a read-only field
    expect(() => regs.CTRL.modify({ VERSION: 1 })).toThrow(/^demo\.CTRL modify: demo\.CTRL\.VERSION is read-only$/);
    expect(region.take()).toEqual([]);
  });

  it('values: numbers up to 32 bits, bigints at 64; too wide, wrong type, unknown label or field throw with no access', () => {
    const { region, regs } = setup();
    // @ts-expect-error a 32-bit register takes a number
    expect(() => regs.CTRL.write(1n)).toThrow(/a 32-bit register takes a number/);
    // @ts-expect-error a 64-bit register takes a bigint
    expect(() => regs.WIDE.write(1)).toThrow(/a 64-bit register takes a bigint/);
    expect(() => regs.CTRL.write(2 ** 32)).toThrow(/does not fit 32 bits; nothing is truncated/);
    expect(() => regs.CTRL.write({ MODE: 4 })).toThrow(/demo\.CTRL write: CTRL\.MODE: 4 does not fit 2 bits/);
    // @ts-expect-error no such label
    expect(() => regs.CTRL.write({ MODE: 'medium' })).toThrow(
      /no value 'medium' \(its values: 'off', 'slow', 'fast'\)/,
    );
    // @ts-expect-error no such field
    expect(() => regs.CTRL.write({ MOED: 1 })).toThrow(/demo\.CTRL has no field 'MOED' \(its fields: EN, MODE/);
    expect(region.take()).toEqual([]);
  });

  it('arrays: elements by index, stride apart; a placement given at bind; out of range throws', () => {
    const { region, regs } = setup();
    regs.DB[0].write({ TAIL: 1 });
    regs.DB.at(3).write(5);
    expect(region.take()).toEqual(['w32 0x100 0x1', 'w32 0x118 0x5']);
    expect(() => regs.DB.at(4)).toThrow(/DB\.at\(4\): expected an index from 0 to 3/);
    expect(regs.DB[2].name).toBe('DB[2]');
    const moved = demo.bind(region, { arrays: { DB: { offset: 0x200, stride: 16, count: 2 } } });
    moved.DB[1].write(7);
    expect(region.take()).toEqual(['w32 0x210 0x7']);
    expect(moved.DB.length).toBe(2);
  });

  it('inspect, String() and Object.keys of registers, arrays and the bound map read nothing', () => {
    const { region, regs } = setup();
    expect(inspect(regs.CTRL)).toBe(
      'Register <demo.CTRL at 0x0> { 32-bit rw; EN[0] MODE[5:4] LINK[6] RST[8] ERR[9] READY[10] VERSION[31:24] }',
    );
    expect(inspect(regs.CAUSE)).toBe(
      'Register <demo.CAUSE at 0x8> { 32-bit rw, reads clear it; RX[0] TX[1] ERR[7:4] }',
    );
    expect(inspect(regs.BASE)).toMatch(/^Register <demo\.BASE at 0x18> \{ 64-bit as 2 x 32-bit rw; ADDR\[63:12\] \}$/);
    expect(inspect(regs.DB)).toBe('RegisterArray <DB[0..3], 8 bytes apart>');
    expect(inspect(regs)).toMatch(/^BoundMap <demo on fake BAR> \{ 10 registers: CTRL, STATUS, CAUSE,/);
    expect(Object.keys(regs)).toEqual([
      'CTRL',
      'STATUS',
      'CAUSE',
      'SET',
      'COUNT',
      'BASE',
      'WIDE',
      'BYTE',
      'HALF',
      'DB',
    ]);
    expect(inspect(demo)).toBe('RegisterMap <demo, BAR0> { 10 registers }');
    void `${String(regs.CTRL.name)} ${regs.CTRL.offset} ${regs.CTRL.width} ${regs.CTRL.reset} ${regs.CTRL.fields.length}`;
    expect(region.take()).toEqual([]);
  });

  it('a decoded read prints as one line; enum fields give their label, or the number when none matches', () => {
    const { region, regs } = setup();
    region.set32(0x00, 0x0100_0021);
    const v = regs.CTRL.read();
    expect(inspect(v)).toBe("CTRL = 0x01000021 { EN: 1, MODE: 'fast', LINK: 0, RST: 0, ERR: 0, READY: 0, VERSION: 1 }");
    expect(Object.keys(v)).toEqual(['raw', 'EN', 'MODE', 'LINK', 'RST', 'ERR', 'READY', 'VERSION']);
    expect(regs.CTRL.decode(0x30).MODE).toBe(3);
    expect(inspect([regs.STATUS.decode(1)])).toBe('[ STATUS = 0x00000001 { UP: 1, SPEED: 0 } ]');
  });

  it('dump() reads every register it may, once, and lists those it skipped with the reason', () => {
    const { region, regs } = setup();
    region.clearOnRead.add(0x10);
    region.set32(0x10, 7);
    const dump = regs.dump();
    expect(region.take()).toEqual(['r32 0x0', 'r32 0x4', 'r32 0x18', 'r32 0x1c', 'r64 0x20', 'r8 0x28', 'r16 0x2a']);
    expect(String(dump).split('\n')).toEqual([
      "CTRL = 0x00000000 { EN: 0, MODE: 'off', LINK: 0, RST: 0, ERR: 0, READY: 0, VERSION: 0 }",
      'STATUS = 0x00000000 { UP: 0, SPEED: 0 }',
      'BASE = 0x0000000000000000 { ADDR: 0n }',
      'WIDE = 0x0000000000000000',
      'BYTE = 0x00 { LO: 0 }',
      'HALF = 0x0000',
      'not read: CAUSE (reading clears it), SET (write-only), COUNT (reading clears it), DB (write-only)',
    ]);
    expect(regs.COUNT.read().raw).toBe(7); // the count survived the dump
    expect(regs.COUNT.read().raw).toBe(0);
    expect(regs.COUNT.accesses).toBe(2);
  });

  it('bind checks that every register fits the region, and reads nothing', () => {
    const small = new Recorder(0x104);
    expect(() => demo.bind(small)).toThrow(
      new RegisterMapError('register map demo bind: DB ends at 0x11c, past the end of fake BAR (0x104 bytes)'),
    );
    expect(small.log).toEqual([]);
  });
});
