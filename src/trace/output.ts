/**
 * Where a trace's text goes: a file, standard error, or a function. Writes are gathered and
 * written in blocks (a write per access would cost more than the access), except to a
 * terminal or a function, where a person is watching; `end()` writes the rest.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { isatty } from 'node:tty';
import { VfioError, VfioErrorCode } from '../../structs/index.js';

const BLOCK = 64 * 1024;

/** A destination of trace text. */
export class TraceOutput {
  readonly #fd: number | undefined;
  readonly #own: boolean;
  readonly #write: ((chunk: string) => void) | undefined;
  readonly #live: boolean;
  #pending: string[] = [];
  #bytes = 0;
  /** What it is, for messages. */
  readonly name: string;

  /** To `file` (created or truncated), else to `write`, else to standard error. */
  constructor(file?: string, write?: (chunk: string) => void) {
    if (write) {
      this.#write = write;
      this.#own = false;
      this.#live = true;
      this.name = 'a function';
    } else if (file !== undefined) {
      try {
        this.#fd = openSync(file, 'w');
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        throw new VfioError(
          VfioErrorCode.INVALID_ARGUMENT,
          `trace file ${file}: cannot create it (${err.code ?? err.message}); give a path in a directory you may write`,
          { cause: e },
        );
      }
      this.#own = true;
      this.#live = false;
      this.name = file;
    } else {
      this.#fd = 2;
      this.#own = false;
      this.#live = isatty(2);
      this.name = 'standard error';
    }
  }

  /** Adds `text` (written now when someone watches, else when a block is full). */
  write(text: string): void {
    if (this.#live) return this.#flushText(text);
    this.#pending.push(text);
    this.#bytes += text.length;
    if (this.#bytes >= BLOCK) this.flush();
  }

  /** Writes what is gathered. */
  flush(): void {
    if (!this.#pending.length) return;
    const text = this.#pending.join('');
    this.#pending = [];
    this.#bytes = 0;
    this.#flushText(text);
  }

  #flushText(text: string): void {
    if (this.#write) return this.#write(text);
    if (this.#fd !== undefined) writeSync(this.#fd, text);
  }

  /** Writes the rest and closes a file it opened. */
  end(): void {
    this.flush();
    if (this.#own && this.#fd !== undefined) closeSync(this.#fd);
  }
}
