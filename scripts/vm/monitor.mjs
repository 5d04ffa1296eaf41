// scripts/vm/run --monitor: a guest test asks the host's QEMU to unplug a device, plug it back or
// inject a PCIe error into it. The guest cannot reach the host, so a fourth virtio-serial port
// (vfiots.monitor) carries its requests, one JSON line each, to this relay, which checks them and
// passes them to QEMU's QMP monitor (a second socket QEMU connects to). Only three commands on the
// run's hot-pluggable devices (devices.mjs, `hotplug`) get through. See scripts/vm/README.md.
import { createServer } from 'node:net';
import { join } from 'node:path';

/** The port's name in the guest (/sys/class/virtio-ports/vportNpM/name). */
export const MONITOR_PORT = 'vfiots.monitor';

/**
 * The errors `aer` injects, by QEMU's names (hw/pci/pcie_aer.c; `pcie_aer_inject_error` also
 * takes raw numbers, which the relay does not pass). Whether an uncorrectable one is fatal is the
 * device's severity register's to say; QEMU's default makes DLP, SDN, FCP, RX_OVERFLOW and
 * MALF_TLP fatal, the rest non-fatal.
 */
export const AER_ERRORS = {
  uncorrectable: [
    'DLP',
    'SDN',
    'POISON_TLP',
    'FCP',
    'COMP_TIMEOUT',
    'COMP_ABORT',
    'UNX_COMP',
    'RX_OVERFLOW',
    'MALF_TLP',
    'ECRC',
    'UNSUP',
  ],
  correctable: ['RCVR', 'BAD_TLP', 'BAD_DLLP', 'REP_ROLL', 'REP_TIMER'],
};

/** How long `device_add` waits for QEMU to finish the device's removal (the guest must power its slot off). */
const DELETED_WAIT_MS = 30_000;

/** QEMU's arguments: the guest's port, and QMP on a socket the relay listens on. */
export const monitorArgs = (tmp) => [
  '-chardev',
  `socket,id=qmp,path=${join(tmp, 'qmp.sock')}`,
  '-mon',
  'chardev=qmp,mode=control',
  '-chardev',
  `socket,id=mon,path=${join(tmp, 'mon.sock')}`,
  '-device',
  `virtserialport,chardev=mon,name=${MONITOR_PORT}`,
];

/** Calls `onLine` with each whole line of `socket`. */
function readLines(socket, onLine) {
  let buf = '';
  socket.setEncoding('utf8');
  socket.on('data', (d) => {
    buf += d;
    for (let nl; (nl = buf.indexOf('\n')) >= 0;) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) onLine(line);
    }
  });
}

/**
 * A QMP client on the socket QEMU connected to: `execute(command, args)` resolves with `return` or
 * rejects with QEMU's error.
 */
export class Qmp {
  #socket;
  #next = 1;
  #pending = new Map();
  #deleted = new Set();
  #deletedWaiters = new Map();
  /** Why the socket closed, once it has: nothing sent after would be answered. */
  #closed;

  constructor(socket) {
    this.#socket = socket;
    readLines(socket, (line) => this.#onMessage(line));
    // A killed QEMU resets the socket: an 'error' with no listener would end the process that
    // runs the relay. The 'close' that follows fails what is pending.
    let why = 'QEMU closed its QMP monitor';
    socket.on('error', (e) => (why = `QEMU's QMP monitor failed: ${e.message}`));
    socket.on('close', () => {
      this.#closed = why;
      for (const { reject } of this.#pending.values()) reject(new Error(why));
      this.#pending.clear();
    });
  }

  execute(command, args) {
    if (this.#closed) return Promise.reject(new Error(this.#closed));
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#socket.write(JSON.stringify({ execute: command, ...(args && { arguments: args }), id }) + '\n');
    });
  }

  /** Resolves once QEMU reported DEVICE_DELETED for `id` (since the last `forget(id)`), or rejects after `ms`. */
  deleted(id, ms) {
    if (this.#deleted.has(id)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#deletedWaiters.delete(id);
        reject(
          new Error(`QEMU did not finish removing ${id} within ${ms / 1000} s (did the guest power its slot off?)`),
        );
      }, ms);
      this.#deletedWaiters.set(id, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Forgets a DEVICE_DELETED of `id` (it is being plugged back). */
  forget(id) {
    this.#deleted.delete(id);
  }

  #onMessage(line) {
    let msg;
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    if (msg.event === 'DEVICE_DELETED' && msg.data?.device) {
      this.#deleted.add(msg.data.device);
      this.#deletedWaiters.get(msg.data.device)?.();
      this.#deletedWaiters.delete(msg.data.device);
      return;
    }
    const p = this.#pending.get(msg.id);
    if (!p) return; // the greeting, other events
    this.#pending.delete(msg.id);
    if (msg.error) p.reject(new Error(`QEMU: ${msg.error.desc ?? msg.error.class}`));
    else p.resolve(msg.return);
  }
}

/**
 * What a request asks of QEMU, checked: `{ cmd: 'device_del' | 'device_add', device }` or
 * `{ cmd: 'aer', device, error, correctable? }`, `device` a manifest name of the run's
 * hot-pluggable devices. Returns `{ run(qmp) }` or throws an Error saying what is refused.
 */
export function checkRequest(req, hotplug) {
  if (typeof req !== 'object' || req === null) throw new Error('a request is a JSON object');
  const names = hotplug.map((h) => h.name);
  const dev = hotplug.find((h) => h.name === req.device);
  if (!dev)
    throw new Error(
      `"${req.device}" is not a hot-pluggable device of this run (${names.length ? names.join(', ') : 'none: add one with --devices'})`,
    );
  switch (req.cmd) {
    case 'device_del':
      return { run: (qmp) => qmp.execute('device_del', { id: dev.id }) };
    case 'device_add':
      return {
        async run(qmp) {
          await qmp.deleted(dev.id, DELETED_WAIT_MS);
          qmp.forget(dev.id);
          return qmp.execute('device_add', dev.props);
        },
      };
    case 'aer': {
      const correctable = req.correctable === true;
      const known = correctable ? AER_ERRORS.correctable : AER_ERRORS.uncorrectable;
      if (!known.includes(req.error))
        throw new Error(
          `aer: ${correctable ? 'correctable' : 'uncorrectable'} errors are ${known.join(', ')}, not "${req.error}"`,
        );
      const line = `pcie_aer_inject_error ${correctable ? '-c ' : ''}${dev.id} ${req.error}`;
      return {
        async run(qmp) {
          const said = String(await qmp.execute('human-monitor-command', { 'command-line': line }));
          if (!said.startsWith('OK')) throw new Error(`QEMU: ${said.trim()}`);
          return said.trim();
        },
      };
    }
    default:
      throw new Error(`unknown command "${req.cmd}" (the monitor takes device_del, device_add and aer)`);
  }
}

function listen(path, onConn) {
  return new Promise((resolve, reject) => {
    const srv = createServer(onConn);
    srv.once('error', reject);
    srv.listen(path, () => resolve(srv));
  });
}

/**
 * Listens on qmp.sock and mon.sock in `tmp` for QEMU (start QEMU after this resolves). Each line
 * from the guest's port is a request; the answer is one line, `{"ok":true,"said":...}` or
 * `{"ok":false,"error":...}`, in the order asked. `hotplug`: `{ name, id, props }` of the run's
 * hot-pluggable devices. `say` reports each command done, for the run's log.
 */
export async function openMonitor(tmp, hotplug, say) {
  let qmp = null;
  let ready;
  const qmpReady = new Promise((resolve) => (ready = resolve));
  const servers = [
    await listen(join(tmp, 'qmp.sock'), (s) => {
      qmp = new Qmp(s);
      qmp.execute('qmp_capabilities').then(
        () => ready(qmp),
        () => {},
      );
    }),
    await listen(join(tmp, 'mon.sock'), (s) => {
      // The guest's port resets when QEMU dies: the run is over, nothing is left to answer.
      s.on('error', () => {});
      let queue = Promise.resolve();
      readLines(s, (line) => {
        queue = queue.then(async () => {
          let reply;
          try {
            const cmd = checkRequest(JSON.parse(line), hotplug);
            const said = await cmd.run(await qmpReady);
            reply = { ok: true, said: typeof said === 'string' ? said : '' }; // QMP's {} says nothing
            say(`monitor: ${line}`);
          } catch (e) {
            reply = { ok: false, error: e.message };
            say(`monitor refused ${line}: ${e.message}`);
          }
          s.write(JSON.stringify(reply) + '\n');
        });
      });
    }),
  ];
  for (const srv of servers) srv.unref();
  return {
    qmp: () => qmp,
    /** Stops listening; the connections end with QEMU. */
    close: () => servers.forEach((srv) => srv.close()),
  };
}
