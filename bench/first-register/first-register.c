/*
 * Time to first register, the C baseline: open the device the shortest way VFIO allows, mmap
 * BAR0 and print edu's identification register (0x010000ed). bench/first-register.ts times it
 * from the spawn to the printed value.
 *
 *   cc -O2 -o first-register bench/first-register/first-register.c
 *   ./first-register type1|noiommu GROUP_PATH BDF     (/dev/vfio/N or /dev/vfio/noiommu-N)
 *   ./first-register iommufd CDEV                      (/dev/vfio/devices/vfioN)
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define DIE(what) do { fprintf(stderr, "%s: %s\n", what, strerror(errno)); return 1; } while (0)

/* The cdev ioctls arrived after the host's <linux/vfio.h> (6.1): their numbers and argument
 * layouts, as in structs/iommufd.ts (the conformance test checks those against 7.x headers). */
#define IOCTL_IOMMU_IOAS_ALLOC _IO(';', 0x81)
#define IOCTL_DEVICE_BIND_IOMMUFD _IO(';', VFIO_BASE + 18)
#define IOCTL_DEVICE_ATTACH_IOMMUFD_PT _IO(';', VFIO_BASE + 19)
struct ioas_alloc { uint32_t size, flags, out_ioas_id; };
struct bind_iommufd { uint32_t argsz, flags; int32_t iommufd; uint32_t out_devid; };
struct attach_pt { uint32_t argsz, flags, pt_id; };

/* The device fd through the container: group joins it, the IOMMU type is set, device by name. */
static int container_device(const char *group_path, const char *bdf, int noiommu) {
  int container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
  if (container < 0) return -1;
  int group = open(group_path, O_RDWR | O_CLOEXEC);
  if (group < 0) return -1;
  if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container)) return -1;
  if (ioctl(container, VFIO_SET_IOMMU, noiommu ? VFIO_NOIOMMU_IOMMU : VFIO_TYPE1v2_IOMMU)) return -1;
  return ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
}

/* The device fd through its cdev: bound to a new iommufd and attached to an IO address space. */
static int cdev_device(const char *cdev) {
  int iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
  if (iommufd < 0) return -1;
  int dev = open(cdev, O_RDWR | O_CLOEXEC);
  if (dev < 0) return -1;
  struct bind_iommufd bind = { .argsz = sizeof bind, .iommufd = iommufd };
  if (ioctl(dev, IOCTL_DEVICE_BIND_IOMMUFD, &bind)) return -1;
  struct ioas_alloc ioas = { .size = sizeof ioas };
  if (ioctl(iommufd, IOCTL_IOMMU_IOAS_ALLOC, &ioas)) return -1;
  struct attach_pt attach = { .argsz = sizeof attach, .pt_id = ioas.out_ioas_id };
  if (ioctl(dev, IOCTL_DEVICE_ATTACH_IOMMUFD_PT, &attach)) return -1;
  return dev;
}

int main(int argc, char **argv) {
  int cdev = argc == 3 && strcmp(argv[1], "iommufd") == 0;
  if (!cdev && argc != 4) {
    fprintf(stderr, "usage: %s type1|noiommu GROUP_PATH BDF, or %s iommufd CDEV\n", argv[0], argv[0]);
    return 2;
  }
  int dev = cdev ? cdev_device(argv[2]) : container_device(argv[2], argv[3], strcmp(argv[1], "noiommu") == 0);
  if (dev < 0) DIE("opening the device");
  struct vfio_region_info bar = { .argsz = sizeof bar, .index = VFIO_PCI_BAR0_REGION_INDEX };
  if (ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &bar)) DIE("VFIO_DEVICE_GET_REGION_INFO");
  volatile uint32_t *regs = mmap(NULL, bar.size, PROT_READ | PROT_WRITE, MAP_SHARED, dev, (off_t)bar.offset);
  if (regs == MAP_FAILED) DIE("mmap BAR0");
  printf("0x%08x\n", regs[0]);
  fflush(stdout);
  return 0;
}
