/** The system-call layer: libc through koffi, `SysError`, mappings and views, eventfd, epoll, AF_UNIX sockets. */
export {
  sysOpen,
  sysClose,
  sysIoctl,
  sysPread,
  sysPwrite,
  sysRead,
  sysReadAt,
  sysWrite,
  sysWriteAt,
  sysMlock,
  sysMunlock,
  sysMadvise,
  pageSize,
  type Memory,
  type Hint,
} from './calls.js';
export { Mapping, rawView, bufferAddress, MAP_FAILED_ADDRESS, type MmapOptions } from './memory.js';
export { AddressedMemory } from './addressed.js';
export { EventFd } from './eventfd.js';
export { sysSocketpair, sysSendmsg, sysRecvmsg, type RecvmsgResult } from './socket-calls.js';
export { UnixSocket, type ReceivedMessage } from './unix-socket.js';
export { Epoll, type EpollReady } from './epoll.js';
export { getRlimit, setRlimit, type Limit } from './rlimit.js';
export { MmioWindow } from './mmio.js';
export { lockedBytes, hasCapability, CAP_IPC_LOCK } from './process.js';
export { closeAll } from './close-all.js';
export { holdersOf, describeHolders, type FileHolder } from './holders.js';
export { Resource } from './resource.js';
export { FdWatcher } from './fd-watcher.js';
export { formatSize, hex, INSPECT, U64_MAX } from './format.js';
export {
  describeArg,
  checkInteger,
  checkChoice,
  choiceList,
  checkAccess,
  checkSpan,
  isSpan,
  checkValue,
  checkValue64,
} from './args.js';
