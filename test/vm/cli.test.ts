// Runs in the test VM: the `vfio` command as a user runs it, a child process running the
// checkout's build (node dist/src/cli.js; the test matrix builds it before the VM boots),
// against the devices of the manifest.
import { describe, expect, it } from 'vitest';
import { runCompiled } from '../support/run-script.js';
import { testDevice } from './manifest.js';
import { backend } from './backend.js';
import type { ListedDevice } from '../../src/cli/list.js';
import { openDevice } from '../../src/index.js';
import { formatRanges } from '../../src/iommu/index.js';

/** `vfio ARGS...` from the build; resolves with the exit code and both outputs. */
const vfio = (...args: string[]) => runCompiled('dist/src/cli.js', args, 50_000);

describe('vfio command in the VM', () => {
  const edu = testDevice('edu');
  const short = edu.bdf.replace(/^0000:/, '');

  it('read ADDR 0 0 prints edu id 0x010000ed (short address accepted)', async () => {
    expect(await vfio('read', short, '0', '0')).toEqual({ code: 0, stdout: '0x010000ed\n', stderr: '' });
  });

  it('write then read: the liveness register answers with the complement; --count and --width', async () => {
    expect(await vfio('write', edu.bdf, '0', '0x4', '0x12345678')).toEqual({
      code: 0,
      stdout: 'BAR0+0x4 <- 0x12345678\n',
      stderr: '',
    });
    const r = await vfio('read', edu.bdf, '0', '0', '--count', '2', '-w', '32');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('0x0000: 0x010000ed\n0x0004: 0xedcba987\n');
  });

  it('config: one value and the lspci-style dump', async () => {
    expect((await vfio('config', edu.bdf, '0', '--width', '32')).stdout).toBe('0x11e81234\n');
    const dump = await vfio('config', short);
    expect(dump.code).toBe(0);
    const lines = dump.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(16);
    expect(lines[0]).toMatch(/^00: 34 12 e8 11 /);
  });

  it('info shows BAR0 of 1 MiB, MSI, the irqs and the IOMMU', async () => {
    const r = await vfio('info', edu.bdf);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(new RegExp(`^${edu.bdf} 1234:11e8 .*IOMMU group ${edu.group}$`, 'm'));
    expect(r.stdout).toMatch(/^ +0 BAR0 +1 MiB +read,write,mmap$/m);
    expect(r.stdout).toMatch(/^ +BAR0 mem32 at 0x[0-9a-f]+, size 1 MiB$/m);
    expect(r.stdout).toMatch(/^ +0x40 MSI \(0x05\): 1 vector, 64-bit/m);
    expect(r.stdout).toMatch(/^ +1 MSI +1 vector +eventfd/m);
    // The IOMMU's own ranges (VT-d and SMMUv3 differ), as the library reads them.
    const ranges = (() => {
      using dev = openDevice(edu.bdf);
      return formatRanges(dev.dma.info().iovaRanges);
    })();
    expect(r.stdout).toContain(`IOVA ranges ${ranges}\n`);
    // The backend the test run chose (VFIO_TS_IOMMU reaches the command too).
    expect(r.stdout).toMatch(new RegExp(`^IOMMU ${backend} \\(`, 'm'));
    expect(r.stdout).toMatch(backend === 'type1' ? /dma_avail \d+/ : /dma_avail not reported/);
    expect(r.stdout).toMatch(/reset not supported/);
  });

  if (backend === 'iommufd') {
    it('info --iommu type1 takes the container where auto would take iommufd [iommufd only]', async () => {
      const r = await vfio('info', edu.bdf, '--iommu', 'type1');
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^IOMMU type1 \(container \/dev\/vfio\/vfio, Type1v2\)/m);
    });
  }

  it('list --json marks edu viable and the bridge group not viable, naming the rng on virtio-pci', async () => {
    const r = await vfio('list', '--json');
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as ListedDevice[];
    const by = (bdf: string) => list.find((d) => d.address === bdf)!;
    expect(by(edu.bdf)).toMatchObject({
      vendor: '1234',
      device: '11e8',
      driver: 'vfio-pci',
      iommuGroup: edu.group,
      viable: true,
    });
    const stuck = testDevice('edu-nonviable');
    const rng = testDevice('rng-host');
    expect(stuck.group).toBe(rng.group);
    for (const d of [stuck, rng]) {
      expect(by(d.bdf)).toMatchObject({
        iommuGroup: d.group,
        viable: false,
        blockers: [{ address: rng.bdf, driver: 'virtio-pci' }],
      });
    }
  });

  it('a bad address: the clear error on stderr, nothing on stdout, exit code 1', async () => {
    const r = await vfio('read', '00:3.0', '0', '0');
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr:
        "error [ERR_VFIO_INVALID_ADDRESS]: '00:3.0' is not a PCI address: expected domain:bus:device.function in hex, such as 0000:00:03.0 or 00:03.0 (device 00-1f, function 0-7); lspci -D lists them\n",
    });
  });

  it('a device on a host driver: says so and how to bind it', async () => {
    const rng = testDevice('rng-host');
    const r = await vfio('info', rng.bdf);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^error \\[ERR_VFIO_NOT_VFIO_BOUND\\]: ${rng.bdf} is bound to virtio-pci, not vfio-pci: bind it first \\(as root\\) with: vfio bind ${rng.bdf}  \\(or: echo vfio-pci > `,
      ),
    );
  });

  it('a device in a group that is not viable: the library error names the members', async () => {
    const stuck = testDevice('edu-nonviable');
    const r = await vfio('read', stuck.bdf, '0', '0');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`^error \\[ERR_VFIO_GROUP_NOT_VIABLE\\]: IOMMU group ${stuck.group} is not viable`),
    );
    expect(r.stderr).toMatch(/virtio-pci/);
  });
});
