"""The start-up row's Python side (bench/host/startup.ts): `vfio list` done in Python, as a small
tool would. For each device under ROOT/bus/pci/devices: ids and class, driver, IOMMU group, and
whether the group is viable (no member on a driver other than vfio-pci, pci-stub, pcieport); one
line each. Only `os` and `sys`, which the interpreter has loaded before the script starts.

    python3 pci_list.py [ROOT]      (ROOT default /sys)
"""
import os
import sys

SAFE_DRIVERS = {"pci-stub", "pcieport"}


def first_line(path):
    """The first line of the file at `path`, or "" when it cannot be read."""
    try:
        with open(path) as f:
            return f.readline().strip()
    except OSError:
        return ""


def link_name(path):
    """The last component of the symlink at `path`, or "" when it is not a link."""
    try:
        return os.path.basename(os.readlink(path))
    except OSError:
        return ""


def safe(driver):
    return driver == "" or "vfio" in driver or driver in SAFE_DRIVERS


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "/sys"
    devices = os.path.join(root, "bus/pci/devices")
    viable = {}
    print(f"{'ADDRESS':13} {'ID':10} {'CLASS':6} {'DRIVER':11} {'GROUP':6} VFIO-VIABLE")
    for addr in sorted(os.listdir(devices)):
        d = os.path.join(devices, addr)
        vendor, device, cls = (first_line(os.path.join(d, n))[2:] for n in ("vendor", "device", "class"))
        driver = link_name(os.path.join(d, "driver"))
        group = link_name(os.path.join(d, "iommu_group"))
        if group and group not in viable:
            members = os.listdir(os.path.join(root, "kernel/iommu_groups", group, "devices"))
            viable[group] = all(safe(link_name(os.path.join(devices, m, "driver"))) for m in members)
        ok = "yes" if group and viable[group] else "no"
        print(f"{addr:13} {vendor}:{device:5} {cls:6} {driver or '-':11} {group or '-':6} {ok}")


main()
