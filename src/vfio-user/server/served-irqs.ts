/**
 * A served device's interrupts: the eventfds the client set for each irq index, and raising
 * them. The descriptors come from the client and are this server's to close: when replaced,
 * when the index is disabled, and when the client goes. INTx is automasked as under VFIO: after
 * it fires it stays masked until the client unmasks it, and one raised meanwhile waits.
 */
import { constants } from 'node:os';
import {
  VFIO_IRQ_INFO_AUTOMASKED,
  VFIO_IRQ_INFO_EVENTFD,
  VFIO_IRQ_INFO_MASKABLE,
  VFIO_IRQ_INFO_NORESIZE,
  VFIO_IRQ_SET_ACTION_MASK,
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_IRQ_SET_ACTION_UNMASK,
  VFIO_IRQ_SET_DATA_BOOL,
  VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_PCI_INTX_IRQ_INDEX,
  VFIO_PCI_MSIX_IRQ_INDEX,
  VFIO_PCI_MSI_IRQ_INDEX,
  VFIO_PCI_NUM_IRQS,
} from '../../../structs/index.js';
import { closeAll, describeFd, isEventfd, sysClose, sysWrite } from '../../sys/index.js';
import type { IrqSetMessage } from '../payloads.js';
import type { InterruptModel } from './model.js';

/** An irq index as the client sees it: flags and vector count. */
export interface ServedIrqInfo {
  index: number;
  flags: number;
  count: number;
}

/** A command refused with an errno, and why (the client gets the errno alone). */
export interface Refusal {
  errno: number;
  why: string;
}

const ONE = Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]);

export class ServedInterrupts {
  readonly #info: ServedIrqInfo[];
  /** Per index, per vector: the eventfd the client set, or -1. */
  readonly #fds: number[][];
  #intxMasked = false;
  #intxPending = false;

  constructor(model: InterruptModel) {
    const eventfd = VFIO_IRQ_INFO_EVENTFD;
    this.#info = Array.from({ length: VFIO_PCI_NUM_IRQS }, (_, index) => ({ index, flags: 0, count: 0 }));
    if (model.intx)
      this.#info[VFIO_PCI_INTX_IRQ_INDEX] = {
        index: VFIO_PCI_INTX_IRQ_INDEX,
        flags: eventfd | VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED,
        count: 1,
      };
    if (model.msi)
      this.#info[VFIO_PCI_MSI_IRQ_INDEX] = {
        index: VFIO_PCI_MSI_IRQ_INDEX,
        flags: eventfd | VFIO_IRQ_INFO_NORESIZE,
        count: model.msi,
      };
    if (model.msix)
      this.#info[VFIO_PCI_MSIX_IRQ_INDEX] = {
        index: VFIO_PCI_MSIX_IRQ_INDEX,
        flags: eventfd | VFIO_IRQ_INFO_NORESIZE,
        count: model.msix.vectors,
      };
    this.#fds = this.#info.map((i) => Array<number>(i.count).fill(-1));
  }

  /** What the client is told about irq index `index`, or undefined past the last. */
  info(index: number): ServedIrqInfo | undefined {
    return this.#info[index];
  }

  /** Number of irq indexes. */
  get count(): number {
    return this.#info.length;
  }

  /** Applies a set-irqs request; takes ownership of `fds` whatever happens. */
  set(m: IrqSetMessage, fds: number[]): Refusal | undefined {
    const info = this.#info[m.index];
    const refuse = (errno: number, why: string): Refusal => {
      closeAll(fds.map((fd) => () => sysClose(fd, 'an eventfd from the client')));
      return { errno, why };
    };
    if (!info) return refuse(constants.errno.EINVAL, `irq index ${m.index} does not exist`);
    const vectors = this.#fds[m.index];
    const action = m.flags & (VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_ACTION_TRIGGER);
    if (m.count === 0 && !(m.flags & (VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_DATA_BOOL))) {
      if (action !== VFIO_IRQ_SET_ACTION_TRIGGER) return refuse(constants.errno.EINVAL, 'count 0 with a mask action');
      this.#release(vectors, 0, vectors.length); // count 0, no data: disable the whole index
      if (m.index === VFIO_PCI_INTX_IRQ_INDEX) this.#intxMasked = this.#intxPending = false;
      return undefined;
    }
    if (m.start + m.count > info.count)
      return refuse(constants.errno.EINVAL, `vectors ${m.start}+${m.count} of an index with ${info.count}`);
    if (action !== VFIO_IRQ_SET_ACTION_TRIGGER) {
      if (m.index !== VFIO_PCI_INTX_IRQ_INDEX || m.flags & VFIO_IRQ_SET_DATA_EVENTFD)
        return refuse(constants.errno.EINVAL, 'masking is offered for INTx only, and without eventfds');
      if (m.bools && !m.bools[0]) return undefined;
      if (action === VFIO_IRQ_SET_ACTION_MASK) this.#intxMasked = true;
      else this.#unmaskIntx();
      return undefined;
    }
    if (m.flags & VFIO_IRQ_SET_DATA_EVENTFD) {
      // An interrupt is an 8-byte write from the server's thread: into a full pipe or a FIFO a
      // client sent instead, it would block the server, every client with it.
      const other = fds.findIndex((fd) => !isEventfd(fd));
      if (other >= 0)
        return refuse(
          constants.errno.EINVAL,
          `the descriptor for vector ${m.start + other}, ${describeFd(fds[other])}, is not an eventfd`,
        );
      this.#release(vectors, m.start, m.count);
      fds.forEach((fd, i) => (vectors[m.start + i] = fd));
      return undefined;
    }
    for (let i = 0; i < m.count; i++) if (!m.bools || m.bools[i]) this.#signal(vectors[m.start + i]);
    return undefined;
  }

  /** Raises `vector` on MSI-X if the client set eventfds there, else MSI, else INTx. */
  raise(vector: number): boolean {
    for (const index of [VFIO_PCI_MSIX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX]) {
      const fds = this.#fds[index];
      if (fds.some((fd) => fd >= 0)) return vector < fds.length && this.#signal(fds[vector]);
    }
    const intx = this.#fds[VFIO_PCI_INTX_IRQ_INDEX][0] ?? -1;
    if (intx < 0 || vector !== 0) return false;
    if (this.#intxMasked) {
      this.#intxPending = true;
      return true;
    }
    this.#intxMasked = true;
    return this.#signal(intx);
  }

  /** Closes every eventfd the client set: it went away, or the device was reset. */
  releaseAll(): void {
    for (const vectors of this.#fds) this.#release(vectors, 0, vectors.length);
    this.#intxMasked = this.#intxPending = false;
  }

  #unmaskIntx(): void {
    this.#intxMasked = false;
    if (!this.#intxPending) return;
    this.#intxPending = false;
    this.raise(0);
  }

  #signal(fd: number): boolean {
    if (fd < 0) return false;
    sysWrite(fd, ONE, 8, 'an interrupt eventfd from the client');
    return true;
  }

  #release(vectors: number[], start: number, count: number): void {
    const open = vectors.slice(start, start + count).filter((fd) => fd >= 0);
    vectors.fill(-1, start, start + count);
    closeAll(open.map((fd) => () => sysClose(fd, 'an eventfd from the client')));
  }
}
