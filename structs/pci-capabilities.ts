/**
 * Registers inside the power management and PCI Express capabilities, and the MSI-X
 * capability's size (`<linux/pci_regs.h>`): what a device model lays out in its config space.
 */
// Power management capability
export const PCI_PM_PMC = 2;
export const PCI_PM_CTRL = 4;
export const PCI_PM_CTRL_STATE_MASK = 0x0003;
export const PCI_PM_CTRL_NO_SOFT_RESET = 0x0008;
export const PCI_PM_SIZEOF = 8;

// MSI-X capability size
export const PCI_CAP_MSIX_SIZEOF = 12;

// PCI Express capability
export const PCI_EXP_FLAGS = 0x02;
export const PCI_EXP_FLAGS_VERS = 0x000f;
export const PCI_EXP_FLAGS_TYPE = 0x00f0;
export const PCI_EXP_TYPE_ENDPOINT = 0x0;
export const PCI_EXP_TYPE_RC_END = 0x9;
export const PCI_EXP_DEVCAP = 0x04;
export const PCI_EXP_DEVCAP_FLR = 0x10000000;
export const PCI_EXP_DEVCTL = 0x08;
export const PCI_EXP_DEVCTL_BCR_FLR = 0x8000;
export const PCI_EXP_DEVCTL_CERE = 0x0001;
export const PCI_EXP_DEVCTL_NFERE = 0x0002;
export const PCI_EXP_DEVCTL_FERE = 0x0004;
export const PCI_EXP_DEVCTL_URRE = 0x0008;
export const PCI_EXP_DEVSTA = 0x0a;
export const PCI_EXP_LNKCAP = 0x0c;
export const PCI_EXP_LNKCTL = 0x10;
export const PCI_EXP_LNKSTA = 0x12;

/** Every constant above, by macro name (in `PCI_CONSTANTS`, checked against `<linux/pci_regs.h>`). */
export const PCI_CAPABILITY_REGISTERS: Readonly<Record<string, number>> = {
  PCI_PM_PMC,
  PCI_PM_CTRL,
  PCI_PM_CTRL_STATE_MASK,
  PCI_PM_CTRL_NO_SOFT_RESET,
  PCI_PM_SIZEOF,
  PCI_CAP_MSIX_SIZEOF,
  PCI_EXP_FLAGS,
  PCI_EXP_FLAGS_VERS,
  PCI_EXP_FLAGS_TYPE,
  PCI_EXP_TYPE_ENDPOINT,
  PCI_EXP_TYPE_RC_END,
  PCI_EXP_DEVCAP,
  PCI_EXP_DEVCAP_FLR,
  PCI_EXP_DEVCTL,
  PCI_EXP_DEVCTL_BCR_FLR,
  PCI_EXP_DEVCTL_CERE,
  PCI_EXP_DEVCTL_NFERE,
  PCI_EXP_DEVCTL_FERE,
  PCI_EXP_DEVCTL_URRE,
  PCI_EXP_DEVSTA,
  PCI_EXP_LNKCAP,
  PCI_EXP_LNKCTL,
  PCI_EXP_LNKSTA,
};
