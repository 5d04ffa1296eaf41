/**
 * The `vfio` subcommands about the machine rather than one open device: listing devices, the
 * doctor, and binding devices to drivers and back. Each imports its module when it runs.
 */
import { DEFAULT_SYSFS, PciSysfs } from '../pci/index.js';
import { parseAddress, requireOperands, type ParsedArgs } from './args.js';
import { IOMMU, JSON_OPT, SYSFS, type Command } from './command.js';
import { toJson } from './format.js';
import { UsageError } from '../../structs/index.js';

/** The sysfs `--sysfs ROOT` names, or the machine's. */
const sysfsOf = (values: ParsedArgs['values']): PciSysfs =>
  new PciSysfs((values.sysfs as string | undefined) ?? DEFAULT_SYSFS);

export const LIST: Command = {
  name: 'list',
  operands: '',
  summary: 'list PCI devices with driver, IOMMU group and whether VFIO can use the group',
  details: 'A group is viable when every member is bound to vfio-pci (or pci-stub, pcieport) or to no driver.',
  options: { json: JSON_OPT, sysfs: SYSFS },
  async run({ positionals, values }, io) {
    requireOperands('list', positionals, []);
    const { formatDeviceList, listDevices } = await import('./list.js');
    const devices = listDevices(sysfsOf(values));
    io.out(values.json ? toJson(devices) : formatDeviceList(devices));
  },
};

export const DOCTOR: Command = {
  name: 'doctor',
  operands: '[ADDRESS]',
  summary: 'check everything VFIO needs on this machine (and for ADDRESS), each problem with its fix',
  details: [
    'In order: the IOMMU, DMA translation, the VFIO modules, the ways in (container, iommufd, no-IOMMU),',
    'interrupt remapping; with ADDRESS its driver, IOMMU group, whether the group is viable and whether',
    'this user may open its files; then the locked-memory limit and hugepages. The exit status is 1 when',
    'a check failed. --iommu checks for one way in (default: VFIO_TS_IOMMU, else any).',
  ].join('\n'),
  options: {
    json: JSON_OPT,
    iommu: IOMMU,
    dma: {
      type: 'string',
      value: 'SIZE',
      description: 'DMA memory the program will pin, for the locked-memory check (default 64M)',
    },
    sysfs: SYSFS,
  },
  async run({ positionals, values }, io) {
    requireOperands('doctor', positionals, [], ['ADDRESS']);
    const address = positionals[0] === undefined ? undefined : parseAddress(positionals[0]);
    const { DEFAULT_DMA_BYTES, formatDoctor, parseSize, runDoctor } = await import('./doctor/doctor.js');
    const { thisMachine } = await import('./doctor/facts.js');
    const dmaBytes = values.dma === undefined ? DEFAULT_DMA_BYTES : parseSize(values.dma as string);
    if (dmaBytes === undefined)
      throw new UsageError(
        `--dma '${values.dma as string}' is not a size: bytes, or a number with K, M or G`,
        'doctor',
      );
    const iommu = (values.iommu as string | undefined) ?? process.env.VFIO_TS_IOMMU ?? 'auto';
    const { IOMMU_CHOICES } = await import('../vfio/index.js');
    if (!(IOMMU_CHOICES as readonly string[]).includes(iommu))
      throw new UsageError(`--iommu '${iommu}': expected one of ${IOMMU_CHOICES.join(', ')}`, 'doctor');
    const machine = thisMachine(sysfsOf(values).root);
    const report = runDoctor(machine, { ...(address ? { address } : {}), iommu, dmaBytes });
    io.out(values.json ? toJson(report) : formatDoctor(report));
    return report.ok ? 0 : 1;
  },
};

export const BIND: Command = {
  name: 'bind',
  operands: 'ADDRESS',
  summary: 'bind a device to vfio-pci through driver_override, remembering its driver (needs root)',
  details: [
    'What each device was on is recorded first (in /run/vfio-ts; VFIO_TS_BIND_STATE names another',
    'file), so vfio unbind --restore puts it back, even after a bind that was killed. --group also binds',
    'every other member of its IOMMU group that is on a host driver: the group becomes viable.',
  ].join('\n'),
  options: {
    driver: { type: 'string', short: 'd', value: 'NAME', description: 'driver to bind to (default vfio-pci)' },
    group: { type: 'boolean', description: 'bind the members of its IOMMU group on host drivers too' },
    sysfs: SYSFS,
  },
  async run({ positionals, values }, io) {
    requireOperands('bind', positionals, ['ADDRESS']);
    const addr = parseAddress(positionals[0]);
    const { bindDevice } = await import('./bind.js');
    const driver = (values.driver as string | undefined) ?? 'vfio-pci';
    const sysfs = sysfsOf(values);
    io.out(bindDevice(sysfs, addr, driver, values.group === true).join('\n'));
  },
};

export const UNBIND: Command = {
  name: 'unbind',
  operands: 'ADDRESS',
  summary: 'take a device off its driver; --restore puts back what vfio bind replaced (needs root)',
  details: 'With --group, every member of its IOMMU group that vfio bind recorded.',
  options: {
    restore: { type: 'boolean', description: 'back to the driver (and driver_override) vfio bind recorded' },
    group: { type: 'boolean', description: 'the recorded members of its IOMMU group too' },
    sysfs: SYSFS,
  },
  async run({ positionals, values }, io) {
    requireOperands('unbind', positionals, ['ADDRESS']);
    const addr = parseAddress(positionals[0]);
    const { unbindDevice } = await import('./bind.js');
    const sysfs = sysfsOf(values);
    io.out(unbindDevice(sysfs, addr, values.restore === true, values.group === true).join('\n'));
  },
};
