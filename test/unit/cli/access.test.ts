// vfio read/write --map on the host (src/cli/access.ts): the map, register and field names are
// checked before any device is opened (so these fail the same with or without VFIO), and --help
// says how.
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/main.js';

/** The command's output and errors, each as one text. */
async function cli(...argv: string[]): Promise<{ out: string; err: string }> {
  const said = { out: '', err: '' };
  await runCli(argv, { out: (t) => void (said.out += `${t}\n`), err: (t) => void (said.err += `${t}\n`) });
  return said;
}

describe('vfio read/write --map', () => {
  it('help describes --map', async () => {
    expect((await cli('read', '--help')).out).toMatch(/-m, --map NAME +a register map \(e1000e, nvme, or a \.json/);
    expect((await cli('read', '--help')).out).toMatch(/vfio read ADDRESS --map NAME \[REGISTER\[\.FIELD\]\.\.\.\]/);
    expect((await cli('write', '--help')).out).toMatch(/REGISTER FIELD=VALUE/);
  });

  it('names a wrong map, register or field before opening the device', async () => {
    expect((await cli('read', '00:05.0', '--map', 'e1000', 'STATUS')).err).toMatch(
      /^error \[ERR_VFIO_REGISTER_MAP\]: no register map 'e1000': the shipped maps are e1000e, nvme/,
    );
    expect((await cli('read', '00:05.0', '--map', 'e1000e', 'STATUZ')).err).toMatch(
      /^error: register map e1000e has no register 'STATUZ' \(its registers: CTRL, STATUS,/,
    );
    expect((await cli('read', '00:05.0', '--map', 'e1000e', 'STATUS.SPD')).err).toMatch(
      /^error: e1000e\.STATUS has no field 'SPD' \(its fields: FD, LU, SPEED, PHYRA, GIO_MASTER_ENABLE\)/,
    );
    expect((await cli('write', '00:05.0', '--map', 'nvme', 'CC', 'EN=1', 'IOSQ=6')).err).toMatch(
      /^error: nvme\.CC has no field 'IOSQ'/,
    );
    expect((await cli('write', '00:05.0', '--map', 'nvme', 'CC')).err).toMatch(/^error: missing VALUE/);
    expect((await cli('write', '00:05.0', '--map', 'nvme', 'CC', 'EN')).err).toMatch(
      /^error: VALUE must be a non-negative/,
    );
    expect((await cli('write', '00:05.0', '--map', 'nvme', 'CC', 'EN=1', 'CSS')).err).toMatch(
      /^error: expected FIELD=VALUE, got 'CSS'/,
    );
    expect((await cli('read', '--map', 'nvme')).err).toMatch(/^error: missing ADDRESS/);
  });
});
