/**
 * A PCI device's GPIO lines through the kernel's sysfs GPIO interface, as a script with busybox
 * alone could use it (the guest has no libgpiod): lines exported by offset on the chip
 * (`/sys/class/gpio/chipN/export`, then `chipN/gpioOFFSET/value`), and the legacy half's `edge`
 * (`/sys/class/gpio/gpioBASE+OFFSET/edge`), the one way there to arm a line's interrupt.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';

const CLASS = '/sys/class/gpio';

/** A gpiochip that a PCI device's driver registered. */
export interface GpioChip {
  /** The chip's directory by device id, `/sys/class/gpio/chipN`. */
  dir: string;
  /** The first line's number in the kernel's global numbering (the legacy half's names). */
  base: number;
  ngpio: number;
  label: string;
}

const readText = (path: string) => readFileSync(path, 'utf8').trim();

/** The gpiochips the driver of PCI device `bdf` registered (`/sys/bus/pci/devices/BDF/gpiochipN`). */
export function gpioChipsOf(bdf: string): GpioChip[] {
  const ids = readdirSync(`/sys/bus/pci/devices/${bdf}`).filter((e) => /^gpiochip\d+$/.test(e));
  const legacy = readdirSync(CLASS).filter((e) => /^gpiochip\d+$/.test(e));
  return ids.map((entry) => {
    const dir = `${CLASS}/chip${entry.slice('gpiochip'.length)}`;
    const label = readText(`${dir}/label`);
    // The legacy class device of the same chip: the one with its label (labels are per device).
    const byBase = legacy.filter((l) => readText(`${CLASS}/${l}/label`) === label);
    if (byBase.length !== 1) throw new Error(`${dir}: ${byBase.length} legacy gpiochips labelled ${label}`);
    return {
      dir,
      base: Number(readText(`${CLASS}/${byBase[0]}/base`)),
      ngpio: Number(readText(`${dir}/ngpio`)),
      label,
    };
  });
}

/** Line `offset` of `chip` requested for user space; its `value` (and legacy) files appear. */
export const exportLine = (chip: GpioChip, offset: number) => writeFileSync(`${chip.dir}/export`, String(offset));

/** Gives line `offset` back to the kernel. */
export const unexportLine = (chip: GpioChip, offset: number) => writeFileSync(`${chip.dir}/unexport`, String(offset));

/** Reads an exported line: 0 or 1. */
export const readLine = (chip: GpioChip, offset: number) => Number(readText(`${chip.dir}/gpio${offset}/value`));

/** Drives an exported output line. */
export const writeLine = (chip: GpioChip, offset: number, value: 0 | 1) =>
  writeFileSync(`${chip.dir}/gpio${offset}/value`, String(value));

/** Arms (`both`, `rising`, `falling`) or disarms (`none`) an exported input line's interrupt. */
export const setEdge = (chip: GpioChip, offset: number, edge: 'none' | 'rising' | 'falling' | 'both') =>
  writeFileSync(`${CLASS}/gpio${chip.base + offset}/edge`, edge);

/**
 * The interrupts counted so far (all CPUs) for the handler named `action` in /proc/interrupts
 * (the last word of its line: `gpiolib` for a line armed through sysfs, a driver's own name),
 * or undefined when no handler has that name.
 */
export function interruptCount(action: string): number | undefined {
  const lines = readFileSync('/proc/interrupts', 'utf8').split('\n');
  const cpus = lines[0].trim().split(/\s+/).length;
  const row = lines.slice(1).find((l) => l.trim().split(/\s+/).at(-1) === action);
  if (!row) return undefined;
  return row
    .trim()
    .split(/\s+/)
    .slice(1, 1 + cpus)
    .reduce((sum, n) => sum + Number(n), 0);
}
