"""Time to first register, in Python 3 as a user would write it without a library: ctypes for
ioctl, mmap for BAR0, a memoryview cast to 32-bit words for the read. Prints edu's
identification register (0x010000ed); bench/first-register.ts times it from the spawn.

  python3 bench/first-register/first-register.py type1|noiommu GROUP_PATH BDF
  python3 bench/first-register/first-register.py iommufd CDEV
"""

import ctypes
import mmap
import os
import sys

libc = ctypes.CDLL(None, use_errno=True)


def _io(nr):
    # _IO(';', nr): VFIO and iommufd ioctls carry no size in their number.
    return (ord(";") << 8) | nr


VFIO_BASE = 100
VFIO_SET_IOMMU = _io(VFIO_BASE + 2)
VFIO_GROUP_SET_CONTAINER = _io(VFIO_BASE + 4)
VFIO_GROUP_GET_DEVICE_FD = _io(VFIO_BASE + 6)
VFIO_DEVICE_GET_REGION_INFO = _io(VFIO_BASE + 8)
VFIO_DEVICE_BIND_IOMMUFD = _io(VFIO_BASE + 18)
VFIO_DEVICE_ATTACH_IOMMUFD_PT = _io(VFIO_BASE + 19)
IOMMU_IOAS_ALLOC = _io(0x81)
VFIO_TYPE1v2_IOMMU = 3
VFIO_NOIOMMU_IOMMU = 8


class RegionInfo(ctypes.Structure):
    _fields_ = [
        ("argsz", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("index", ctypes.c_uint32),
        ("cap_offset", ctypes.c_uint32),
        ("size", ctypes.c_uint64),
        ("offset", ctypes.c_uint64),
    ]


class IoasAlloc(ctypes.Structure):
    _fields_ = [("size", ctypes.c_uint32), ("flags", ctypes.c_uint32), ("out_ioas_id", ctypes.c_uint32)]


class BindIommufd(ctypes.Structure):
    _fields_ = [
        ("argsz", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("iommufd", ctypes.c_int32),
        ("out_devid", ctypes.c_uint32),
    ]


class AttachPt(ctypes.Structure):
    _fields_ = [("argsz", ctypes.c_uint32), ("flags", ctypes.c_uint32), ("pt_id", ctypes.c_uint32)]


def ioctl(fd, request, arg):
    r = libc.ioctl(fd, ctypes.c_ulong(request), arg)
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, f"ioctl 0x{request:x}: {os.strerror(e)}")
    return r


def container_device(group_path, bdf, noiommu):
    container = os.open("/dev/vfio/vfio", os.O_RDWR)
    group = os.open(group_path, os.O_RDWR)
    ioctl(group, VFIO_GROUP_SET_CONTAINER, ctypes.byref(ctypes.c_int(container)))
    ioctl(container, VFIO_SET_IOMMU, ctypes.c_ulong(VFIO_NOIOMMU_IOMMU if noiommu else VFIO_TYPE1v2_IOMMU))
    return ioctl(group, VFIO_GROUP_GET_DEVICE_FD, ctypes.c_char_p(bdf.encode()))


def cdev_device(cdev):
    iommufd = os.open("/dev/iommu", os.O_RDWR)
    dev = os.open(cdev, os.O_RDWR)
    bind = BindIommufd(ctypes.sizeof(BindIommufd), 0, iommufd, 0)
    ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, ctypes.byref(bind))
    ioas = IoasAlloc(ctypes.sizeof(IoasAlloc), 0, 0)
    ioctl(iommufd, IOMMU_IOAS_ALLOC, ctypes.byref(ioas))
    attach = AttachPt(ctypes.sizeof(AttachPt), 0, ioas.out_ioas_id)
    ioctl(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, ctypes.byref(attach))
    return dev


def main():
    args = sys.argv[1:]
    if args[:1] == ["iommufd"] and len(args) == 2:
        dev = cdev_device(args[1])
    elif len(args) == 3:
        dev = container_device(args[1], args[2], args[0] == "noiommu")
    else:
        sys.exit(f"usage: {sys.argv[0]} type1|noiommu GROUP_PATH BDF, or iommufd CDEV")
    bar = RegionInfo(ctypes.sizeof(RegionInfo), 0, 0, 0, 0, 0)  # index 0: BAR0
    ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, ctypes.byref(bar))
    regs = mmap.mmap(dev, bar.size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE, offset=bar.offset)
    words = memoryview(regs).cast("I")
    print(f"0x{words[0]:08x}", flush=True)


main()
