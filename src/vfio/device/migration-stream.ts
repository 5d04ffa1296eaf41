/**
 * A migration data transfer: the fd the kernel opens when a device enters a saving state
 * (PRE_COPY, STOP_COPY: read the device's state from it) or RESUMING (write a saved state into
 * it). The stream is opaque to us: its bytes are moved whole and in order.
 */
import {
  decodeStruct,
  structBuffer,
  SysError,
  vfio_precopy_info,
  VfioError,
  VfioErrorCode,
  VfioTypeError,
} from '../../../structs/index.js';
import { Resource, describeArg, sysClose, sysIoctl, sysRead, sysWrite } from '../../sys/index.js';

/** What `VFIO_MIG_GET_PRECOPY_INFO` says in a PRE_COPY state: the bytes still to read. */
export interface PrecopyInfo {
  /** Bytes of the initial state not read yet (should fall to 0 before STOP_COPY). */
  initialBytes: number;
  /** Bytes of state changed since it was read. */
  dirtyBytes: number;
  /** `VFIO_PRECOPY_INFO_REINIT` (only once MIG_PRECOPY_INFOv2 was set): new initial data is on the stream. */
  flags: number;
}

/** How much one `read()` asks for. */
const CHUNK = 64 * 1024;

/**
 * A device's migration data fd, from `device.migration.setState()`: `readAll()` in a saving
 * state, `write()` in RESUMING. Closing it ends the transfer's fd (the device's state machine
 * is not moved: set the next state on the device).
 */
export class MigrationStream extends Resource {
  /** The data fd. */
  readonly fd: number;
  /** `read` in a saving state (PRE_COPY, STOP_COPY), `write` in RESUMING. */
  readonly direction: 'read' | 'write';
  readonly #device: string;

  /** @internal Made by `device.migration`; takes ownership of `fd`. */
  constructor(fd: number, direction: 'read' | 'write', device: string) {
    super();
    this.fd = fd;
    this.direction = direction;
    this.#device = device;
  }

  get name(): string {
    return `migration data of ${this.#device} (fd ${this.fd})`;
  }

  /**
   * Reads what the device has now, to end of stream: in STOP_COPY the whole remaining state
   * (the end is permanent); in PRE_COPY what is ready (the kernel's ENOMSG, or an empty read,
   * ends it for now; more may come, or come in STOP_COPY on this same stream).
   */
  readAll(): Buffer {
    this.check();
    this.#must('read', 'readAll');
    const chunks: Buffer[] = [];
    const buf = Buffer.alloc(CHUNK);
    for (;;) {
      let n: number | null;
      try {
        n = sysRead(this.fd, buf, CHUNK, this.name);
      } catch (e) {
        if (e instanceof SysError && e.errnoName === 'ENOMSG') break; // pre-copy: nothing more for now
        throw e;
      }
      if (!n) break;
      chunks.push(Buffer.from(buf.subarray(0, n)));
    }
    return Buffer.concat(chunks);
  }

  /** Writes all of `data` (a saved state, or the next piece of one) in RESUMING. */
  write(data: Uint8Array): void {
    this.check();
    this.#must('write', 'write');
    if (!((data as unknown) instanceof Uint8Array))
      throw new VfioTypeError(
        VfioErrorCode.INVALID_ARGUMENT,
        `write() data ${describeArg(data)} on ${this.name}: expected a Uint8Array (a Buffer is one) holding saved state`,
      );
    try {
      for (let done = 0; done < data.length;)
        done += sysWrite(this.fd, data.subarray(done), data.length - done, this.name);
    } catch (e) {
      // The driver checks what it is given as it comes (mtty: EFAULT for a foreign header,
      // ENOMEM past its size): the data, not the call, is wrong.
      if (e instanceof SysError && ['EFAULT', 'EINVAL', 'ENOMEM'].includes(e.errnoName))
        throw e.withHint(
          `the device's driver refused the data: it is not a state saved from a compatible device (same driver, type and version), or more than such a state holds. The device stays in RESUMING: reset it, or move it to another state, before trying again`,
          { code: VfioErrorCode.INVALID_ARGUMENT },
        );
      throw e;
    }
  }

  /**
   * `VFIO_MIG_GET_PRECOPY_INFO`: how much initial and dirty state is left to read, in a PRE_COPY
   * state only (the kernel refuses it otherwise, with EINVAL).
   */
  precopyInfo(): PrecopyInfo {
    this.check();
    this.#must('read', 'precopyInfo');
    const buf = structBuffer(vfio_precopy_info, { argsz: vfio_precopy_info.size });
    try {
      sysIoctl(this.fd, 'VFIO_MIG_GET_PRECOPY_INFO', buf, this.name);
    } catch (e) {
      if (e instanceof SysError && e.errnoName === 'EINVAL')
        throw e.withHint(
          'precopy info is given in the PRE_COPY and PRE_COPY_P2P states only: set one with migration.setState("pre-copy") (the device must offer VFIO_MIGRATION_PRE_COPY)',
          { code: VfioErrorCode.INVALID_STATE },
        );
      throw e;
    }
    const raw = decodeStruct<{ flags: number; initial_bytes: bigint; dirty_bytes: bigint }>(buf, vfio_precopy_info);
    return { initialBytes: Number(raw.initial_bytes), dirtyBytes: Number(raw.dirty_bytes), flags: raw.flags };
  }

  #must(direction: 'read' | 'write', method: string): void {
    if (this.direction !== direction)
      throw new VfioError(
        VfioErrorCode.INVALID_STATE,
        `${method}() on ${this.name}: this stream is for ${this.direction === 'read' ? 'reading a saved state (a saving state opened it)' : 'writing a saved state (RESUMING opened it)'}`,
      );
  }

  protected release(): void {
    sysClose(this.fd, this.name);
  }
}
