// Runs in the test VM: `vfio bind` records what each device was on before it moves it, and
// `vfio unbind --restore` puts it back: the rng of the bridge group taken from virtio-pci with
// --group (the group becomes viable) and given back; e1000e from no driver and back to none;
// and a bind killed half way (its unbind from vfio-pci blocked by a process holding the
// device) still restored. Every device ends where the rig put it.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { runCompiled } from '../support/run-script.js';
import { testDevice } from './manifest.js';
import { openDevice } from '../../src/index.js';
import { parsePciAddress, PciSysfs } from '../../src/pci/index.js';
import { BindState } from '../../src/cli/bind-state.js';

const CLI = join(import.meta.dirname, '../../dist/src/cli.js');
const vfio = (...args: string[]) => runCompiled(CLI, args, 90_000);
const sysfs = new PciSysfs();

/** A manifest device with its address parsed, as sysfs takes it. */
function device(name: string) {
  const d = testDevice(name);
  return { ...d, bdf: parsePciAddress(d.bdf) };
}

/** Resolves once `ready()` holds; polls every 20 ms for up to a minute. */
async function until(ready: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if (ready()) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('vfio bind, and vfio unbind --restore', () => {
  const stuck = device('edu-nonviable');
  const rng = device('rng-host');
  const nic = device('e1000e');
  // Other tests move these devices too, so their driver_override is whatever they left.
  const rngOverride = sysfs.driverOverride(rng.bdf);
  const nicOverride = sysfs.driverOverride(nic.bdf);

  afterAll(() => {
    // Where the rig put them, whatever a failed test left.
    if (sysfs.driver(rng.bdf) !== 'virtio-pci') sysfs.restoreDriver(rng.bdf, 'virtio-pci', rngOverride);
    if (sysfs.driver(nic.bdf) !== 'vfio-pci') sysfs.restoreDriver(nic.bdf, 'vfio-pci', nicOverride);
  });

  it('--group takes the rng off virtio-pci, so the group is viable; --restore gives it back', async () => {
    let r = await vfio('bind', stuck.bdf);
    expect(r).toEqual({
      code: 0,
      stdout: `${stuck.bdf} is already bound to vfio-pci\nIOMMU group ${stuck.group} is not viable yet: ${rng.bdf} is on virtio-pci; vfio bind ${stuck.bdf} --group moves it too\n`,
      stderr: '',
    });
    r = await vfio('bind', stuck.bdf, '--group');
    expect(r.stdout).toBe(
      `${stuck.bdf} is already bound to vfio-pci\n${rng.bdf}: virtio-pci -> vfio-pci (/dev/vfio/${stuck.group})\n`,
    );
    expect(sysfs.driver(rng.bdf)).toBe('vfio-pci');
    expect(new BindState().original(rng.bdf)).toEqual({ driver: 'virtio-pci', override: rngOverride });
    {
      using dev = openDevice(stuck.bdf); // the group is viable now
      expect(dev.bar(0).read32(0)).toBe(0x010000ed);
    }
    r = await vfio('unbind', stuck.bdf, '--restore', '--group');
    expect(r).toEqual({ code: 0, stdout: `${rng.bdf}: vfio-pci -> virtio-pci (restored)\n`, stderr: '' });
    expect(sysfs.driver(rng.bdf)).toBe('virtio-pci');
    expect(sysfs.driverOverride(rng.bdf)).toBe(rngOverride);
    expect(sysfs.driver(stuck.bdf)).toBe('vfio-pci');
    expect(new BindState().original(rng.bdf)).toBeUndefined();
  });

  it('e1000e from no driver to vfio-pci, and back to no driver; a second restore has nothing to restore', async () => {
    sysfs.restoreDriver(nic.bdf, null, null);
    expect(sysfs.driver(nic.bdf)).toBeNull();
    let r = await vfio('bind', nic.bdf);
    expect(r.stdout).toBe(`${nic.bdf}: no driver -> vfio-pci (/dev/vfio/${nic.group})\n`);
    {
      using dev = openDevice(nic.bdf);
      expect(dev.config.read16(0)).toBe(0x8086);
    }
    r = await vfio('unbind', nic.bdf, '--restore');
    expect(r.stdout).toBe(`${nic.bdf}: vfio-pci -> no driver (restored)\n`);
    expect(sysfs.driver(nic.bdf)).toBeNull();
    r = await vfio('unbind', nic.bdf, '--restore');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`^error \\[ERR_VFIO_INVALID_STATE\\]: ${nic.bdf} has no record in /run/vfio-ts/bindings.json`),
    );
    sysfs.restoreDriver(nic.bdf, 'vfio-pci', nicOverride);
  });

  it('a bind killed half way (blocked unbinding a device in use) is put back by --restore', async () => {
    expect(sysfs.driver(nic.bdf)).toBe('vfio-pci');
    const held = openDevice(nic.bdf); // the kernel's unbind from vfio-pci waits until it is closed
    // The kernel asks the holder for the device back once the bind is in that unbind. Nothing
    // here reads the device's driver_override meanwhile: reading it takes the device's lock (seen
    // on 6.1: blocked in driver_override_show), which the unbind holds while it waits for this
    // process: a deadlock.
    let asked = false;
    held.interrupts.onRequest(() => (asked = true));
    const child = spawn(process.execPath, [CLI, 'bind', nic.bdf, '--driver', 'pci-stub'], { stdio: 'ignore' });
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    try {
      await until(() => asked, 'the kernel to ask for the device back (the bind in its unbind)');
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill('SIGKILL');
      held.close(); // the unbind ends; the kill lands before the bind goes on
    }
    expect((await exited)[1]).toBe('SIGKILL');
    expect(sysfs.driver(nic.bdf)).toBeNull(); // off vfio-pci, on nothing: half way
    expect(sysfs.driverOverride(nic.bdf)).toBe('pci-stub'); // written before the unbind
    expect(new BindState().original(nic.bdf)).toEqual({ driver: 'vfio-pci', override: nicOverride });
    const r = await vfio('unbind', nic.bdf, '--restore');
    expect(r).toEqual({ code: 0, stdout: `${nic.bdf}: no driver -> vfio-pci (restored)\n`, stderr: '' });
    expect(sysfs.driverOverride(nic.bdf)).toBe(nicOverride);
    using again = openDevice(nic.bdf);
    expect(again.config.read16(0)).toBe(0x8086);
  }, 120_000);
});
