// Runs in the test VM: examples/e1000e-loopback.ts as a user runs it, as a child process, against
// the manifest's e1000e (QEMU's 82574 model, which loops a frame back when the PHY is in loopback).
import { describe, expect, it } from 'vitest';
import { runScript } from '../support/run-script.js';
import { testDevice } from './manifest.js';

const run = (script: string, ...args: string[]) => runScript(script, args);

describe('examples', () => {
  it('e1000e-loopback.ts (address from the manifest): one frame out through the TX ring, back through the RX ring, identical', async () => {
    const nic = testDevice('e1000e');
    const r = await run('examples/e1000e-loopback.ts');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(
      new RegExp(`^e1000e at ${nic.bdf}: MAC [0-9a-f]{2}(:[0-9a-f]{2}){5}, link up, full duplex$`, 'm'),
    );
    expect(out).toMatch(
      /^PHY loopback: control register 0 0x[0-9a-f]{4} -> 0x4140 \(bit 14 loopback, through MDIC\)$/m,
    );
    expect(out).toMatch(
      /^rings: TX at IOVA 0x[0-9a-f]+, RX at 0x[0-9a-f]+, 8 legacy descriptors each; buffers: a pool of 16 x 2048 B at 0x[0-9a-f]+$/m,
    );
    const sent = /^sent: {5}([0-9a-f]+)$/m.exec(out)?.[1];
    const received = /^received: ([0-9a-f]+)$/m.exec(out)?.[1];
    expect(sent).toHaveLength(128); // 64 bytes
    expect(sent).toContain(Buffer.from('vfio-ts e1000e loopback: hello from user space').toString('hex'));
    expect(sent!.slice(0, 24)).toBe(sent!.slice(12, 24).repeat(2)); // to and from the NIC's own MAC
    expect(sent!.slice(24, 28)).toBe('88b5');
    expect(received).toBe(sent);
    expect(out).toMatch(/^RX descriptor 0: DD, EOP, length 64, no errors; interrupt on MSI-X vector 0 \(RXQ0\)$/m);
    expect(out).toMatch(/^received 64 bytes back: identical$/m);
  });
});
