import { defineConfig } from 'vitest/config';

// Two suites: `host` runs anywhere: test/unit/ (laid out like src/ and structs/, fuzz tests
// beside the unit tests as *.fuzz.test.ts), test/repo/ (checks on the repository: layers, lint
// configuration, package, README blocks, error codes, structs/ against the C headers),
// test/rig/ (the VM rig, scripts/vm/) and test/bench/ (the benchmarks, bench/); `vm` needs
// /dev/vfio and runs inside the QEMU guest started by scripts/vm/run.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'host',
          include: ['test/{unit,repo,rig,bench}/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'vm',
          include: ['test/vm/**/*.test.ts'],
          // A test that starts node with tsx in the arm64 guest (TCG) waits 45-60 s for it on a
          // busy machine: room for one such start (run-script.ts), and then the test's own work.
          testTimeout: 120_000,
          hookTimeout: 120_000,
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
