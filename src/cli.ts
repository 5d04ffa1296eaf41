#!/usr/bin/env node
/**
 * The `vfio` command: list PCI devices and their IOMMU groups, show what VFIO knows about a
 * device, read and write its registers and config space, bind it to vfio-pci.
 *
 * ```sh
 * vfio list
 * vfio info 00:03.0
 * vfio read 00:03.0 0 0x0          # -> 0x010000ed
 * vfio config 00:03.0
 * ```
 *
 * Runs as the installed `vfio` binary (dist/src/cli.js) or from source:
 * `node --import tsx src/cli.ts ...`. The commands themselves live in `src/cli/main.ts`.
 */
import { runCli } from './cli/main.js';

process.exitCode = await runCli(process.argv.slice(2));
