// Locked memory that the kernel counts per user: iommufd charges the pages pinned for DMA to the
// user, all of its processes together, where the library's check before pinning sees only its
// own process. A process of a user whose other process holds most of the limit passes that
// check and is refused by the kernel: the kernel's ENOMEM must still be the locked-memory
// error, with the limit and the fix, and leave nothing behind. (With the container each process
// is charged alone, so the check before pinning already tells: dma-limits.test.ts.)
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { testDevice } from './manifest.js';
import { backend } from './backend.js';
import { lendToNobody, NOBODY } from './nobody.js';

const FIXTURE = 'test/vm/fixtures/memlock-share.ts';
const LIMIT = 1 << 20;

describe(`locked memory shared by a user's processes (${backend})`, () => {
  it("the kernel's ENOMEM is ERR_VFIO_MEMLOCK with the limit and the fix, and leaves nothing behind", async () => {
    expect(backend).toBe('iommufd'); // the matrix runs this file on the iommufd row alone
    const edu = testDevice('edu');
    const nvme = testDevice('nvme');
    using _lent = lendToNobody(['/dev/iommu', edu.cdev!, nvme.cdev!]);
    const args = (mode: string, bdf: string, bytes: number) => [
      '--import',
      'tsx',
      FIXTURE,
      mode,
      bdf,
      String(LIMIT),
      String(bytes),
    ];
    const holder = spawn(process.execPath, args('hold', edu.bdf, 768 << 10), { ...NOBODY, stdio: 'pipe' });
    const exited = once(holder, 'exit');
    let stderr = '';
    holder.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      const [line] = (await once(createInterface({ input: holder.stdout }), 'line')) as [string];
      expect(JSON.parse(line)).toMatchObject({ held: 768 << 10 });
      // The same user, another process and device: 512 KiB fits its own limit, not the user's.
      const out = execFileSync(process.execPath, args('alloc', nvme.bdf, 512 << 10), {
        ...NOBODY,
        encoding: 'utf8',
        timeout: 150_000,
      });
      const r = JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
      expect(r.uid).toBe(65534);
      expect(r.code).toBe('ERR_VFIO_MEMLOCK');
      expect([r.name, r.errno]).toEqual(['SysError', 'ENOMEM']);
      expect(r.message).toMatch(
        /^ioctl\(IOMMU_IOAS_MAP\) on .+ failed: ENOMEM \(errno 12, [^)]+\)\. the kernel refused to pin 512 KiB for DMA: RLIMIT_MEMLOCK is 1 MiB; this process has [\d.]+ (B|KiB) locked, but the kernel counts more \(iommufd charges all of a user's processes together\)\./,
      );
      expect(r.message).toMatch(/ulimit -l unlimited/);
      expect(r.after).toEqual(r.before); // no fd, mapping or locked memory left by the refusal
      expect(r.quarter).toMatch(/^ok iova=0x/); // 128 KiB still fits what the user has left
    } finally {
      holder.stdin.end();
      await exited;
    }
    expect(holder.exitCode, `the holder's stderr: ${stderr}`).toBe(0);
  }, 300_000); // two children start node with tsx: 7-10 s each on x86-64
});
