import { defineConfig } from 'vitest/config';

// Two suites: `host` runs anywhere (unit tests, layout conformance, the VM rig's own
// tests); `vm` needs /dev/vfio and runs inside the QEMU guest started by scripts/vm/run.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'host',
          include: ['test/host/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'vm',
          include: ['test/vm/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // One guest, two vCPUs: test files share the devices, so they run one at a time.
          fileParallelism: false,
          // One worker process: node starts slowly under TCG; a second one would cost seconds.
          maxWorkers: 1,
          // And that worker runs every file: importing the library afresh for each file cost about
          // a quarter of a row's time under TCG. The files close what they open, so none sees
          // another's devices; no file mocks modules.
          isolate: false,
        },
      },
    ],
  },
});
