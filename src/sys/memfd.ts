/**
 * Memory with a file behind it (`memfd_create`): what one process maps and hands to another by
 * descriptor, as a vfio-user client shares its DMA memory with the server.
 */
import { MAP_POPULATE, MAP_SHARED, MADV_DONTFORK, MFD_CLOEXEC, PROT_READ, PROT_WRITE } from '../../structs/index.js';
import { fail } from './fail.js';
import { libc } from './libc.js';
import { sysClose, sysMadvise } from './calls.js';
import { Mapping } from './memory.js';

/** `memfd_create(name, MFD_CLOEXEC)`: a new anonymous file's descriptor. */
export function sysMemfdCreate(name: string): number {
  const fd = libc.memfd_create(name, MFD_CLOEXEC) as number;
  if (fd < 0) fail('memfd_create', name);
  return fd;
}

/** `ftruncate(fd, length)`. */
export function sysFtruncate(fd: number, length: number, target?: string): void {
  if ((libc.ftruncate(fd, length) as number) < 0) fail('ftruncate', target ?? `fd ${fd}`);
}

/** A shared mapping of a new memfd of `size` bytes, populated, and the memfd's descriptor. */
export interface SharedMemory {
  mapping: Mapping;
  /** The memfd: the caller sends it and closes it (the mapping keeps the memory). */
  fd: number;
}

/**
 * `size` bytes of memory in a memfd, mapped shared and populated (as DMA memory is), kept out
 * of a fork's copy. `name` shows in /proc/PID/maps and fd listings.
 */
export function sharedMemory(size: number, name: string): SharedMemory {
  const fd = sysMemfdCreate(name);
  try {
    sysFtruncate(fd, size, name);
    const mapping = new Mapping({
      length: size,
      prot: PROT_READ | PROT_WRITE,
      flags: MAP_SHARED | MAP_POPULATE,
      fd,
      target: name,
    });
    sysMadvise(mapping.address, mapping.length, MADV_DONTFORK);
    return { mapping, fd };
  } catch (e) {
    sysClose(fd, name);
    throw e;
  }
}
