/**
 * The system-call layer: libc through koffi, `SysError`, mappings and views, eventfd, epoll,
 * AF_UNIX sockets (pairs, listeners at a path, connections to them).
 */
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
  sysChmod,
  sysRename,
  sysUnlink,
  pageSize,
  type Memory,
  type Hint,
} from './calls.js';
export { Mapping, rawView, bufferAddress, MAP_FAILED_ADDRESS, type MmapOptions } from './memory.js';
export { AddressedMemory } from './addressed.js';
export { EventFd } from './eventfd.js';
export { fdLink, describeFd, isEventfd } from './fd-link.js';
export {
  sysSocketpair,
  sysSocket,
  sysBind,
  sysListen,
  sysAccept4,
  sysConnect,
  sysWaitReadable,
  sysSendmsg,
  sysRecvmsg,
  type RecvmsgResult,
} from './socket-calls.js';
export { UnixSocket, type ReceivedMessage, type ReceivedBytes, type ReceiveOptions } from './unix-socket.js';
export { UnixListener, type UnixListenOptions } from './unix-listener.js';
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
export { sysMemfdCreate, sysFtruncate, sharedMemory, type SharedMemory } from './memfd.js';
