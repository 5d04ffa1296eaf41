// The three virtio-serial ports of the test VM, as Unix sockets on the host: the command's stdout
// and stderr (each ended by a marker line with the run's nonce), and control lines from the
// guest's /init (KERNEL version, READY, FAIL reason, EXIT code). See scripts/vm/README.md.
import { createServer } from 'node:net';
import { join } from 'node:path';

/** Passes data through until `marker`, which it swallows along with anything after it. */
export class UntilMarker {
  constructor(marker, sink, onEnd) {
    this.marker = Buffer.from(marker);
    this.sink = sink;
    this.onEnd = onEnd;
    this.held = Buffer.alloc(0);
    this.done = false;
  }
  push(chunk) {
    if (this.done) return;
    const buf = Buffer.concat([this.held, chunk]);
    const at = buf.indexOf(this.marker);
    if (at >= 0) {
      this.sink(buf.subarray(0, at));
      this.done = true;
      this.held = Buffer.alloc(0);
      this.onEnd();
      return;
    }
    // Hold back the longest tail that could be the start of the marker.
    let keep = Math.min(this.marker.length - 1, buf.length);
    while (keep > 0 && !this.marker.subarray(0, keep).equals(buf.subarray(buf.length - keep))) keep--;
    this.sink(buf.subarray(0, buf.length - keep));
    this.held = Buffer.from(buf.subarray(buf.length - keep));
  }
  flush() {
    if (!this.done && this.held.length) this.sink(this.held);
    this.held = Buffer.alloc(0);
  }
}

/** `onError` hears a connection's error (a QEMU killed mid-run): unheard, it would end the runner. */
function listen(path, onConn, onError) {
  return new Promise((resolve, reject) => {
    const srv = createServer((s) => {
      s.on('error', onError);
      onConn(s);
    });
    srv.once('error', reject);
    srv.listen(path, () => resolve(srv));
  });
}

/** Calls `onLine` with each whole line that arrives on a socket. */
const lines = (onLine) => (s) => {
  let buf = '';
  s.setEncoding('utf8');
  s.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  });
};

/**
 * Listens on out.sock, err.sock and ctl.sock in `tmp`. The command's output goes to ours as it
 * comes. `on.end(code)` is called once CMD's exit code is known and both streams have ended (or
 * 5 s later, saying some output may be lost); a FAIL line from the guest only sets the code to
 * `failCode` (the guest powers off, and QEMU's exit ends the run). Returns
 * `{ exitCode(), flush() }`: the code so far (null before EXIT or FAIL), and a flush of held output.
 */
export async function openChannels(tmp, nonce, failCode, on) {
  const marker = `\0VFIOTS-EOF-${nonce}\0`;
  let exitCode = null;
  let outDone = false;
  let errDone = false;
  let eofTimer = null;
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    clearTimeout(eofTimer);
    on.end(exitCode);
  };
  const maybeDone = () => {
    if (exitCode === null) return;
    if (outDone && errDone) end();
    else if (!eofTimer) {
      eofTimer = setTimeout(() => {
        on.say('output did not end cleanly; some may be lost');
        end();
      }, 5000);
    }
  };
  const stream = (sink, done) =>
    new UntilMarker(
      marker,
      (b) => b.length && sink.write(b),
      () => {
        done();
        maybeDone();
      },
    );
  const outF = stream(process.stdout, () => (outDone = true));
  const errF = stream(process.stderr, () => (errDone = true));
  const control = (line) => {
    const [word, ...rest] = line.split(' ');
    if (word === 'KERNEL') on.kernel(rest.join(' '));
    else if (word === 'READY') on.ready();
    else if (word === 'FAIL') {
      on.say(`guest setup failed: ${rest.join(' ')}`);
      exitCode = failCode;
      outDone = errDone = true;
    } else if (word === 'EXIT') {
      exitCode = Number(rest[0]);
      maybeDone();
    }
  };
  const lost = (port) => (e) => on.say(`the guest's ${port} port failed: ${e.message}`);
  const servers = [
    await listen(join(tmp, 'out.sock'), (s) => s.on('data', (d) => outF.push(d)), lost('stdout')),
    await listen(join(tmp, 'err.sock'), (s) => s.on('data', (d) => errF.push(d)), lost('stderr')),
    await listen(join(tmp, 'ctl.sock'), lines(control), lost('control')),
  ];
  for (const s of servers) s.unref();
  return {
    exitCode: () => exitCode,
    flush() {
      outF.flush();
      errF.flush();
    },
  };
}

/** QEMU's arguments for the three ports (a virtio-serial-pci device must come first). */
export const channelArgs = (tmp) =>
  ['ctl', 'out', 'err'].flatMap((id) => [
    '-chardev',
    `socket,id=${id},path=${join(tmp, `${id}.sock`)}`,
    '-device',
    `virtserialport,chardev=${id},name=vfiots.${id}`,
  ]);
