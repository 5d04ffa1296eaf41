/**
 * What `vfio bind` replaced, kept so that `vfio unbind --restore` can put it back: per device,
 * the driver it was on and its driver_override. Written (and flushed) before any device is
 * moved, so a bind killed half way still leaves the record a restore needs. It lives in /run
 * (bindings do not outlive a reboot, and neither should the record); VFIO_TS_BIND_STATE names
 * another file.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { PciAddress } from '../pci/index.js';
import { VfioError, VfioErrorCode } from '../../structs/index.js';

export const DEFAULT_BIND_STATE = '/run/vfio-ts/bindings.json';

/** Where the record is: VFIO_TS_BIND_STATE, else DEFAULT_BIND_STATE. */
export const bindStatePath = (): string => process.env.VFIO_TS_BIND_STATE ?? DEFAULT_BIND_STATE;

/** A device as it was before the first `vfio bind` that moved it. */
export interface OriginalBinding {
  driver: string | null;
  override: string | null;
}

interface StateFile {
  devices: Record<string, OriginalBinding>;
}

/** The record: read when made, written back by `save()`. */
export class BindState {
  readonly path: string;
  readonly #devices: Map<string, OriginalBinding>;

  constructor(path = bindStatePath()) {
    this.path = path;
    this.#devices = new Map(Object.entries(readState(path).devices));
  }

  /** What `addr` was on before it was first bound, if it is recorded. */
  original(addr: PciAddress): OriginalBinding | undefined {
    return this.#devices.get(addr);
  }

  /** Records `addr`'s original binding, unless an earlier bind recorded it already (that one is the original). */
  remember(addr: PciAddress, original: OriginalBinding): void {
    if (!this.#devices.has(addr)) this.#devices.set(addr, original);
  }

  forget(addr: PciAddress): void {
    this.#devices.delete(addr);
  }

  /** The recorded devices. */
  addresses(): PciAddress[] {
    return [...this.#devices.keys()].sort() as PciAddress[];
  }

  /** Writes the record: a new file flushed and renamed over the old, so it is whole or not there. */
  save(): void {
    const state: StateFile = { devices: Object.fromEntries([...this.#devices].sort(([a], [b]) => a.localeCompare(b))) };
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      const tmp = `${this.path}.${process.pid}`;
      const fd = openSync(tmp, 'w', 0o600);
      try {
        writeSync(fd, `${JSON.stringify(state, null, 2)}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new VfioError(
        code === 'EACCES' || code === 'EPERM' ? VfioErrorCode.PERMISSION : VfioErrorCode.UNSUPPORTED,
        `cannot write the record of bindings ${this.path} (${code ?? String(e)}): binding needs root; VFIO_TS_BIND_STATE names another file`,
        { cause: e },
      );
    }
  }
}

function readState(path: string): StateFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { devices: {} };
    throw new VfioError(
      VfioErrorCode.PERMISSION,
      `cannot read the record of bindings ${path}: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
  let parsed: Partial<StateFile> | null = null;
  let why = 'no "devices" object';
  try {
    parsed = JSON.parse(text) as Partial<StateFile> | null;
  } catch (e) {
    why = (e as Error).message;
  }
  if (typeof parsed?.devices === 'object' && parsed.devices !== null) return { devices: parsed.devices };
  throw new VfioError(
    VfioErrorCode.MALFORMED,
    `the record of bindings ${path} is not what vfio bind writes (${why}): remove it, then bind devices back by hand`,
  );
}
