/**
 * Every error class the library throws, each with its `name` and a stable `code`
 * ({@link VfioErrorCode}, error-codes.ts). They live in the lowest layer because the parsers here
 * (capability chains, irq sets, hot-reset info) throw them too.
 */
import { VfioErrorCode } from './error-codes.js';
import { defaultCode, defaultHint, errnoDescription, errnoName } from './errno.js';

/**
 * An error the library raised itself, for a reason `code` names; the base of every error class
 * here. `instanceof VfioError` holds for every error the library throws, the
 * {@link VfioRangeError} and {@link VfioTypeError} included (they extend Node's `RangeError` and
 * `TypeError`, so it is answered by {@link isVfioError}).
 *
 * ```ts
 * try {
 *   openDevice('00:03.0');
 * } catch (e) {
 *   if (e instanceof VfioError && e.code === VfioErrorCode.GROUP_BUSY) console.error('close it elsewhere');
 *   else throw e;
 * }
 * ```
 */
export class VfioError extends Error {
  override name = 'VfioError';
  readonly code: VfioErrorCode;
  constructor(code: VfioErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }

  /** `x instanceof VfioError` is {@link isVfioError}; for a subclass, the ordinary prototype check. */
  static override [Symbol.hasInstance](x: unknown): boolean {
    return this === VfioError ? isVfioError(x) : Function.prototype[Symbol.hasInstance].call(this, x);
  }
}

/** A value outside its allowed range; `instanceof RangeError` holds, as for Node's own. */
export class VfioRangeError extends RangeError {
  override name = 'VfioRangeError';
  readonly code: VfioErrorCode;
  constructor(code: VfioErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** A value of the wrong type; `instanceof TypeError` holds, as for Node's own. */
export class VfioTypeError extends TypeError {
  override name = 'VfioTypeError';
  readonly code: VfioErrorCode;
  constructor(code: VfioErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** What a failed system call was and what it was about; see {@link SysError}. */
export interface SysErrorDetails {
  /** The system call (`open`, `ioctl(VFIO_GROUP_GET_STATUS)`, ...). */
  syscall: string;
  errno: number;
  /** The path or object the call was about (`/dev/vfio/12`, `device 0000:00:03.0`). */
  target?: string;
  /** What to do about it; when absent a default hint for the errno is used. */
  hint?: string;
  /** The library's code for the failure; when absent one is chosen from the errno and the call. */
  code?: VfioErrorCode;
  /** The C library's text for the errno (`strerror`); when absent, Node's text for it. */
  description?: string;
}

/**
 * A failed system call. `code` is the library's code ({@link VfioErrorCode}: `ERR_VFIO_MEMLOCK`,
 * `ERR_VFIO_GROUP_BUSY`, or `ERR_VFIO_SYSCALL` when no other fits); the kernel's answer stays on
 * `errno` (the number) and `errnoName` (`EBUSY`).
 */
export class SysError extends VfioError {
  override name = 'SysError';
  /** The system call (`open`, `ioctl(VFIO_GROUP_GET_STATUS)`, ...). */
  readonly syscall: string;
  /** The errno number. */
  readonly errno: number;
  /** The errno symbol (`EBUSY`). */
  readonly errnoName: string;
  /** The C library's text for the errno. */
  readonly description: string;
  /** The path or object the call was about. */
  readonly target?: string;
  /** What to do about it. */
  readonly hint?: string;

  constructor(details: SysErrorDetails) {
    const symbol = errnoName(details.errno);
    const hint = details.hint ?? defaultHint(symbol, details.syscall, details.target);
    const text = details.description ?? errnoDescription(details.errno);
    const on = details.target ? ` on ${details.target}` : '';
    super(
      details.code ?? defaultCode(symbol, details.syscall, details.target),
      `${details.syscall}${on} failed: ${symbol} (errno ${details.errno}, ${text})${hint ? `. ${hint}` : ''}`,
    );
    this.syscall = details.syscall;
    this.errno = details.errno;
    this.errnoName = symbol;
    this.description = text;
    this.target = details.target;
    this.hint = hint;
  }

  /**
   * The same failure told better: for a caller that knows more about the cause than the
   * system call did (a different hint, and the resource or call named as the user knows it).
   */
  withHint(hint: string, rename: { syscall?: string; target?: string; code?: VfioErrorCode } = {}): SysError {
    const syscall = rename.syscall ?? this.syscall;
    const target = rename.target ?? this.target;
    return new SysError({
      syscall,
      errno: this.errno,
      target,
      hint,
      description: this.description,
      code: rename.code ?? defaultCode(this.errnoName, syscall, target),
    });
  }
}

/** A capability chain that cannot be trusted: out of bounds, backwards, looping or truncated. */
export class CapChainError extends VfioError {
  override name = 'CapChainError';
  constructor(message: string) {
    super(VfioErrorCode.MALFORMED, message);
  }
}

/** Why a pending interrupt wait ended early. */
export type IrqAbortReason = 'stopped' | 'disabled' | 'closed' | 'removed';

/**
 * A pending `waitAsync()` ended because of `stop()`, `disable()` or `close()` (of the interrupts or
 * the device); with reason 'removed' (code `ERR_VFIO_DEVICE_REMOVED`), a `wait()` too: a request
 * handler closed the device the kernel asked back.
 */
export class IrqWaitAbortedError extends VfioError {
  override name = 'IrqWaitAbortedError';
  /** What ended the wait. */
  readonly reason: IrqAbortReason;
  constructor(reason: IrqAbortReason, device: string) {
    const why =
      reason === 'closed'
        ? 'the device (or its interrupts) was closed'
        : reason === 'disabled'
          ? 'interrupts were disabled'
          : reason === 'removed'
            ? 'the kernel asked for the device back (a hot-unplug, or vfio-pci unbound from it) and it was closed'
            : 'stop() was called';
    super(
      reason === 'removed' ? VfioErrorCode.DEVICE_REMOVED : VfioErrorCode.ABORTED,
      `interrupt wait on ${device} ended: ${why}`,
    );
    this.reason = reason;
  }
}

/** A map that does not hold together, or a wrong name or value given to one of its registers. */
export class RegisterMapError extends VfioError {
  override name = 'RegisterMapError';
  constructor(message: string, options?: ErrorOptions) {
    super(VfioErrorCode.REGISTER_MAP, message, options);
  }
}

/**
 * A replay (or a run checked against a recording) met an access that differs from the
 * recording: `expected` is the recorded event, `actual` what happened instead (absent when the
 * run ended early), both with their registers decoded when a map was bound.
 */
export class ReplayMismatchError extends VfioError {
  override name = 'ReplayMismatchError';
  /** The recorded event's number in the trace (1 = the first of the device's events). */
  readonly index: number;
  /** The recorded event. */
  readonly expected: object | undefined;
  /** What the device (or the run) did instead. */
  readonly actual: object | undefined;
  constructor(message: string, index: number, expected: object | undefined, actual: object | undefined) {
    super(VfioErrorCode.REPLAY_MISMATCH, message);
    this.index = index;
    this.expected = expected;
    this.actual = actual;
  }
}

/** A mistake on the `vfio` command line: printed as `error: <message>` with a pointer to `--help`. */
export class UsageError extends VfioError {
  override name = 'UsageError';
  /** The command whose usage was wrong, when one was recognised. */
  readonly command?: string;
  constructor(message: string, command?: string) {
    super(VfioErrorCode.USAGE, message);
    this.command = command;
  }
}

/** Every error class the library throws, for tools that list or check them. */
export const ERROR_CLASSES = [
  VfioError,
  VfioRangeError,
  VfioTypeError,
  SysError,
  CapChainError,
  IrqWaitAbortedError,
  RegisterMapError,
  ReplayMismatchError,
  UsageError,
] as const;

const CODES: ReadonlySet<string> = new Set(Object.values(VfioErrorCode));

/** True for any error the library throws: one with a code from {@link VfioErrorCode}. */
export function isVfioError(e: unknown): e is Error & { code: VfioErrorCode } {
  return e instanceof Error && CODES.has((e as { code?: unknown }).code as string);
}
