// The VM rig itself (scripts/vm/run), on the host: exit codes come back from the guest, and a
// hanging command is killed at --timeout with no QEMU left behind. Each of those tests boots
// the VM once. The command-line checks boot nothing, nor do those of the Node versions (the
// pins, the rows and host runs made of them, and package.json's engines).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MACHINE_NODE_ONLY } from '../../scripts/vm/host-nodes.mjs';
import { matrixRows, NODE_CORE } from '../../scripts/vm/matrix-rows.mjs';
import { fetchedNode, fetchNode, major, NODES, otherNodes } from '../../scripts/vm/nodes.mjs';

const ROOT = join(import.meta.dirname, '..', '..');
const VM = join(ROOT, 'scripts', 'vm');
const RUN = join(VM, 'run');
const skip = process.env.VFIO_TS_SKIP_VM === '1';
const tmp = mkdtempSync(join(tmpdir(), 'vfiots-rig-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(RUN, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

// Concurrent: the second guest only sleeps, so both fit on a small machine.
describe.skipIf(skip).concurrent('scripts/vm/run', () => {
  it("exits with the guest command's exit code and streams its output", async () => {
    const r = await run(['--devices', 'edu', '--', 'sh', '-c', 'echo out-$((6*7)); echo err-line >&2; exit 7']);
    expect(r.code, r.stderr).toBe(7);
    expect(r.stdout).toBe('out-42\n');
    expect(r.stderr).toContain('err-line\n');
    expect(r.stderr).toMatch(/guest kernel \d+\.\d+/);
    // A failing command is not a failing rig: no kernel log buries its output.
    expect(r.stderr).not.toContain('guest kernel log');
  });

  it('kills a command that hangs at --timeout, and QEMU with it', async () => {
    const pidfile = join(tmp, 'qemu.pid');
    const start = Date.now();
    const r = await run(['--devices', 'none', '--timeout', '20', '--', 'sleep', '1000'], {
      VFIO_TS_VM_PIDFILE: pidfile,
    });
    expect(r.code, r.stderr).toBe(124);
    expect(r.stderr).toContain('TIMED OUT after 20 s');
    expect(Date.now() - start).toBeLessThan(60_000);
    const pid = Number(readFileSync(pidfile, 'utf8'));
    expect(pid).toBeGreaterThan(1);
    expect(alive(pid), `QEMU pid ${pid} is still alive`).toBe(false);
  });
});

// No boot: the command line is checked before anything starts (even with VFIO_TS_SKIP_VM=1).
describe('scripts/vm/run command line', () => {
  it('refuses --no-iommu without --kernel vfio, saying why, with exit 2', async () => {
    for (const args of [['--no-iommu'], ['--kernel', 'debian', '--no-iommu']]) {
      const r = await run([...args, '--', 'true']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain('--no-iommu needs --kernel vfio');
      expect(r.stderr).not.toContain('qemu pid');
    }
  });

  it('refuses an unknown kernel or option with exit 2', async () => {
    const k = await run(['--kernel', 'fedora', '--', 'true']);
    expect(k.code).toBe(2);
    expect(k.stderr).toContain('--kernel must be one of debian, vfio');
    const o = await run(['--bogus', '--', 'true']);
    expect(o.code).toBe(2);
    expect(o.stderr).toContain('unknown option --bogus');
  });

  it("refuses an unknown architecture, and arm64 with a kernel other than Debian's, with exit 2", async () => {
    const a = await run(['--arch', 'sparc', '--', 'true']);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('--arch must be x86_64 or arm64, not "sparc"');
    const k = await run(['--arch', 'arm64', '--kernel', 'vfio', '--', 'true']);
    expect(k.code).toBe(2);
    expect(k.stderr).toContain("--arch arm64 boots Debian's arm64 kernel only");
  });

  it('refuses a Node that is not pinned, and --node with arm64, with exit 2', async () => {
    const v = await run(['--node', '18', '--', 'true']);
    expect(v.code).toBe(2);
    expect(v.stderr).toMatch(/--node must be one of \d+\.\d+\.\d+, .*not "18"/);
    const a = await run(['--arch', 'arm64', '--node', '22', '--', 'true']);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('--node takes x86-64 builds');
  });

  it('refuses --vfio-user with arm64 (exit 2), and a socket no server listens on (exit 125), booting nothing', async () => {
    const a = await run(['--arch', 'arm64', '--vfio-user', join(tmp, 'x.sock'), '--', 'true']);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('--vfio-user attaches a device to the x86-64 guest only');
    const missing = join(tmp, 'nobody.sock');
    const m = await run(['--devices', 'none', '--vfio-user', missing, '--', 'true']);
    expect(m.code, m.stderr).toBe(skip ? 0 : 125);
    if (!skip) expect(m.stderr).toContain(`no vfio-user server listens on ${missing}`);
    expect(m.stderr).not.toContain('qemu pid');
  });

  it('refuses --keep-driver naming no device of the boot, with exit 2, booting nothing', async () => {
    const r = await run(['--devices', 'edu', '--keep-driver', 'vfio-user0', '--', 'true'], { VFIO_TS_SKIP_VM: '1' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--keep-driver vfio-user0: no such device in this boot (its devices: edu)');
    const ok = await run(['--devices', 'nonviable', '--keep-driver', 'edu-nonviable', '--', 'true'], {
      VFIO_TS_SKIP_VM: '1',
    });
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('refuses --monitor and the hotplug device with arm64, with exit 2, booting nothing', async () => {
    for (const asked of [['--monitor'], ['--devices', 'hotplug']]) {
      const r = await run(['--arch', 'arm64', ...asked, '--', 'true']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--monitor and the hotplug device are for the x86-64 guest only');
    }
    const ok = await run(['--devices', 'hotplug', '--monitor', '--keep-driver', 'rng-hotplug', '--', 'true'], {
      VFIO_TS_SKIP_VM: '1',
    });
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('says which option lacks a value or takes none, with exit 2', async () => {
    const t = await run(['--timeout', '--', 'true']);
    expect(t.code).toBe(2);
    expect(t.stderr).toContain('--timeout needs a value');
    const n = await run(['--no-iommu=yes', '--kernel', 'vfio', '--', 'true']);
    expect(n.code).toBe(2);
    expect(n.stderr).toContain('--no-iommu takes no value');
  });

  it("ends its options at the command's first word: the command's own options are not its", async () => {
    // Skipped once the command line is accepted: exit 0 means --import and --bogus went to node.
    const r = await run(['--devices', 'none', 'node', '--import', 'tsx', '--bogus'], { VFIO_TS_SKIP_VM: '1' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('SKIPPED');
    const d = await run(['--devices', 'none', '--', '--bogus'], { VFIO_TS_SKIP_VM: '1' });
    expect(d.code, d.stderr).toBe(0);
  });

  it('--help lists every option, the devices and the manifest, exit 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    for (const word of [
      '--node',
      '--arch',
      'arm-smmuv3',
      '--kernel',
      '--no-iommu',
      '--devices',
      '--timeout',
      '--memory',
      '--log',
      '--vfio-user',
      'caching mode',
      '--keep-driver',
      '--monitor',
      'pcie_aer_inject_error',
      'hotplug',
      'edu',
      'nvme',
      'e1000e',
      'nonviable',
      '/run/vfio-ts/manifest.json',
    ])
      expect(r.stdout).toContain(word);
  });
});

// The machine's own Node: under scripts/vm/host-nodes this file runs on another one, which says
// which in VFIO_TS_MACHINE_NODE.
const machineNode = process.env.VFIO_TS_MACHINE_NODE ?? process.versions.node;

/** `X.Y.Z` against a range of `^`, `>=`, `<` comparators and `||` (what package.json's engines uses). */
function satisfies(version: string, range: string): boolean {
  const num = (v: string) => {
    const [a = 0, b = 0, c = 0] = v.split('.').map(Number);
    return a * 1e8 + b * 1e4 + c;
  };
  const v = num(version);
  return range.split('||').some((alt) =>
    alt
      .trim()
      .split(/\s+/)
      .every((c) => {
        const m = /^(\^|>=|<)(\d+(?:\.\d+){0,2})$/.exec(c);
        if (!m) throw new Error(`engines: cannot read "${c}"`);
        const bound = num(m[2]);
        if (m[1] === '>=') return v >= bound;
        if (m[1] === '<') return v < bound;
        return v >= bound && v < (Math.floor(bound / 1e8) + 1) * 1e8;
      }),
  );
}

describe('Node versions', () => {
  const pins = NODES.map((n) => n.version);
  const proven = [...pins, machineNode];

  it('pins exact versions of distinct lines, each with the integrity of its tarball', () => {
    expect(NODES.length).toBeGreaterThanOrEqual(3);
    for (const n of NODES) {
      expect(n.version).toMatch(/^\d+\.\d+\.\d+$/);
      expect(n.integrity).toMatch(/^sha512-[A-Za-z0-9+/]{86}==$/);
    }
    expect(new Set(NODES.map((n) => major(n.version))).size).toBe(NODES.length);
    expect(new Set(NODES.map((n) => n.integrity)).size).toBe(NODES.length);
  });

  it('pins them in scripts/vm/nodes.mjs alone: no other script, package.json or .ci/run names one', () => {
    const files = [
      ...readdirSync(VM, { withFileTypes: true })
        .filter((e) => e.isFile() && e.name !== 'nodes.mjs' && e.name !== 'README.md')
        .map((e) => join(VM, e.name)),
      join(ROOT, 'package.json'),
      join(ROOT, '.ci', 'run'),
    ];
    expect(files).toContain(join(VM, 'matrix-rows.mjs'));
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      for (const v of pins) expect(text.includes(v), `${f} names ${v}`).toBe(false);
    }
  });

  it("has a matrix row per pinned Node but the machine's line, running the core under that Node", () => {
    const rows = matrixRows('20.20.2');
    const nodeRows = rows.filter((r) => r.name.startsWith('node'));
    expect(nodeRows.map((r) => r.name)).toEqual(NODES.map((n) => `node${major(n.version)}`));
    for (const r of nodeRows) {
      expect(r.rig).toEqual(expect.arrayContaining(['--node', r.node]));
      expect(pins).toContain(r.node);
      expect(r.files).toEqual(NODE_CORE);
    }
    // The other rows run on the machine's Node.
    for (const r of rows.filter((x) => !x.name.startsWith('node'))) {
      expect(r.node).toBe('20.20.2');
      expect(r.rig).not.toContain('--node');
    }
    // A machine on a pinned line does not run that line twice.
    const on24 = matrixRows('24.1.0').map((r) => r.name);
    expect(on24).not.toContain('node24');
    expect(on24.filter((n) => n.startsWith('node'))).toHaveLength(NODES.length - 1);
  });

  it('runs the device core on our kernel with the container in the node rows, not again in vfio-type1', () => {
    const rows = matrixRows('20.20.2');
    const vfioType1 = rows.find((r) => r.name === 'vfio-type1');
    const nodeRows = rows.filter((r) => r.name.startsWith('node'));
    expect(nodeRows.length).toBeGreaterThan(0);
    for (const f of ['edu', 'devices', 'dma', 'interrupts'].map((n) => `test/vm/${n}.test.ts`)) {
      expect(vfioType1?.exclude).toContain(f);
      for (const r of nodeRows) {
        expect([r.kernel, r.backend]).toEqual(['vfio', 'type1']);
        expect(r.files).toContain(f);
      }
    }
    for (const r of nodeRows) expect(r.env).toEqual({ VFIO_TS_DOC_BLOCKS: 'README.md' });
  });

  it('the core: open, regions, DMA, interrupts, the REPL, the command and the README blocks, all of them files', () => {
    for (const f of ['devices', 'dma', 'interrupts', 'repl', 'cli', 'readme-blocks'])
      expect(NODE_CORE).toContain(`test/vm/${f}.test.ts`);
    for (const f of NODE_CORE) expect(existsSync(join(ROOT, f)), f).toBe(true);
  });

  it('test-matrix --list shows every row with its Node; --only takes a node row and refuses an unknown one', () => {
    const list = spawnSync(join(VM, 'test-matrix'), ['--list'], { encoding: 'utf8' });
    expect(list.status).toBe(0);
    for (const r of matrixRows(process.versions.node)) {
      expect(list.stdout).toMatch(new RegExp(`^  ${r.name} .*node ${r.node.replaceAll('.', '\\.')}`, 'm'));
    }
    const bad = spawnSync(join(VM, 'test-matrix'), ['--only', 'node25'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('unknown run "node25"');
    // A node row is a known one: the skip opt-out runs it without booting (and builds dist/ first).
    const other = otherNodes(process.versions.node)[0];
    if (other) {
      const name = `node${major(other.version)}`;
      const one = spawnSync(join(VM, 'test-matrix'), ['--only', name], {
        encoding: 'utf8',
        env: { ...process.env, VFIO_TS_SKIP_VM: '1' },
      });
      expect(one.status, one.stderr).toBe(0);
      expect(one.stderr).toContain(`=== VM run 1/1: ${name}`);
      expect(one.stderr).toMatch(new RegExp(`^${name} .* ${other.version.replaceAll('.', '\\.')} +0 `, 'm'));
    }
  }, 120_000);

  it('host-nodes leaves out only files that exist, and lists the Nodes it runs', () => {
    for (const f of MACHINE_NODE_ONLY) expect(existsSync(join(ROOT, f)), f).toBe(true);
    const list = spawnSync(join(VM, 'host-nodes'), ['--list'], { encoding: 'utf8' });
    expect(list.status).toBe(0);
    for (const n of NODES) expect(list.stdout).toContain(n.version);
    const bad = spawnSync(join(VM, 'host-nodes'), ['--only', '19'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('no pinned Node "19"');
  });

  it("package.json's engines admits every proven Node, and no line older than the newest that is not", () => {
    const { engines } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
    for (const v of proven) expect(satisfies(v, engines.node), `${v} in ${engines.node}`).toBe(true);
    const lines = new Set(proven.map(major));
    const high = Math.max(...lines);
    // From long before the oldest: a line the machine no longer runs must leave engines too.
    for (let m = 10; m <= high; m++) {
      if (!lines.has(m)) expect(satisfies(`${m}.99.0`, engines.node), `${m} in ${engines.node}`).toBe(false);
    }
    // Open above the newest: a new line is not refused before the matrix has it.
    expect(satisfies(`${high + 1}.0.0`, engines.node)).toBe(true);
    // Node 20 before 20.4 has no Symbol.dispose, which `using` needs.
    expect(satisfies('20.3.1', engines.node)).toBe(false);
  });

  it.skipIf(skip)('has each pinned Node fetched by scripts/vm/setup, and it is that version', () => {
    for (const n of otherNodes(machineNode)) {
      const bin = fetchedNode(n);
      expect(bin, `Node ${n.version}: run scripts/vm/setup`).not.toBeNull();
      expect(execFileSync(bin!, ['--version'], { encoding: 'utf8' }).trim()).toBe(`v${n.version}`);
    }
  });

  it('refuses a tarball whose integrity is not the pinned one, and keeps nothing of it', () => {
    const cache = mkdtempSync(join(tmp, 'node-cache-'));
    const n = { ...NODES[0], integrity: 'sha512-x' };
    expect(() => fetchNode(n, { cache, log: () => {} })).toThrow(
      `has integrity ${NODES[0].integrity}, not the pinned sha512-x`,
    );
    expect(readdirSync(cache)).toEqual([]);
    expect(fetchedNode(n, cache)).toBeNull();
  }, 120_000);
});
