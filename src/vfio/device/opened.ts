/**
 * Who wants to know when a device opens: a process-wide tracer (`traceProcess()`,
 * `VFIO_TS_TRACE`) sees every device however it was opened (`openDevice`, a container, an
 * iommufd context). Called once per open, never on an access path. Typed loosely so this file
 * needs nothing of `Device` (device.ts gives the typed `watchDeviceOpens`).
 */
const watchers = new Set<(device: unknown) => void>();

/** Calls `watcher` with each device opened from now on; returns what stops it. */
export function addOpenWatcher(watcher: (device: unknown) => void): () => void {
  watchers.add(watcher);
  return () => {
    watchers.delete(watcher);
  };
}

/** Called by `Device` once it is open. */
export function announceOpen(device: unknown): void {
  for (const w of watchers) w(device);
}
