/**
 * Asks the host's QEMU, from a test in the guest, to unplug a device, plug it back or inject a PCIe
 * error into it: one JSON line on the virtio-serial port `vfiots.monitor`, answered by the relay
 * of `scripts/vm/run --monitor` (scripts/vm/monitor.mjs), which takes only those three commands
 * on the run's hot-pluggable devices. Synchronous, bounded in time.
 */
import { closeSync, constants, existsSync, openSync, readdirSync, readFileSync, readSync, writeSync } from 'node:fs';

/** What the relay takes: `device` is the device's manifest name. */
export type MonitorRequest =
  | { cmd: 'device_del' | 'device_add'; device: string }
  | { cmd: 'aer'; device: string; error: string; correctable?: boolean };

const PORTS = '/sys/class/virtio-ports';
const NAME = 'vfiots.monitor';

/** The port's device node, or undefined when the run has no monitor. */
export function monitorPort(): string | undefined {
  if (!existsSync(PORTS)) return undefined;
  for (const p of readdirSync(PORTS)) {
    if (readFileSync(`${PORTS}/${p}/name`, 'utf8').trim() === NAME) return `/dev/${p}`;
  }
  return undefined;
}

const nap = new Int32Array(new SharedArrayBuffer(4));

/**
 * Sends `req` and returns what QEMU said; throws with the relay's reason when it refused or
 * QEMU failed, and after `timeoutMs` without an answer. `device_add` first waits (up to 30 s
 * on the host) for QEMU to have finished removing the device.
 */
export function monitor(req: MonitorRequest, timeoutMs = 60_000): string {
  const port = monitorPort();
  if (!port) throw new Error(`no ${NAME} port in this guest: boot it with scripts/vm/run --monitor`);
  const fd = openSync(port, constants.O_RDWR | constants.O_NONBLOCK);
  try {
    writeSync(fd, JSON.stringify(req) + '\n');
    const deadline = Date.now() + timeoutMs;
    const buf = Buffer.alloc(4096);
    let got = '';
    while (!got.includes('\n')) {
      let n = 0;
      try {
        n = readSync(fd, buf);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      }
      if (n > 0) got += buf.toString('utf8', 0, n);
      else if (Date.now() > deadline)
        throw new Error(`the monitor did not answer ${JSON.stringify(req)} in ${timeoutMs} ms`);
      else Atomics.wait(nap, 0, 0, 10);
    }
    const reply = JSON.parse(got.slice(0, got.indexOf('\n'))) as { ok: boolean; said?: string; error?: string };
    if (!reply.ok) throw new Error(`monitor: ${reply.error}`);
    return reply.said ?? '';
  } finally {
    closeSync(fd);
  }
}
