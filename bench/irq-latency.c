/*
 * Interrupt latency baseline in C: edu's raise register (0x60) written through the mapped
 * BAR0, MSI on an eventfd, poll() until it is readable, read it, acknowledge (0x64).
 * Prints one latency per line in nanoseconds (write to poll() return).
 *
 *   cc -O2 -o irq-latency bench/irq-latency.c
 *   ./irq-latency GROUP BDF COUNT
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define DIE(...) do { fprintf(stderr, __VA_ARGS__); fprintf(stderr, ": %s\n", strerror(errno)); exit(1); } while (0)

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc != 4) { fprintf(stderr, "usage: %s GROUP BDF COUNT\n", argv[0]); return 2; }
  int count = atoi(argv[3]);
  char path[64];
  snprintf(path, sizeof path, "/dev/vfio/%s", argv[1]);
  int container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
  if (container < 0) DIE("open /dev/vfio/vfio");
  int group = open(path, O_RDWR | O_CLOEXEC);
  if (group < 0) DIE("open %s", path);
  if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container)) DIE("VFIO_GROUP_SET_CONTAINER");
  if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) DIE("VFIO_SET_IOMMU");
  int dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, argv[2]);
  if (dev < 0) DIE("VFIO_GROUP_GET_DEVICE_FD %s", argv[2]);

  struct vfio_region_info bar = { .argsz = sizeof bar, .index = VFIO_PCI_BAR0_REGION_INDEX };
  if (ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &bar)) DIE("VFIO_DEVICE_GET_REGION_INFO");
  volatile uint32_t *regs = mmap(NULL, bar.size, PROT_READ | PROT_WRITE, MAP_SHARED, dev, (off_t)bar.offset);
  if (regs == MAP_FAILED) DIE("mmap BAR0");

  /* Bus mastering on (MSI needs it): command register through the config region. */
  struct vfio_region_info cfg = { .argsz = sizeof cfg, .index = VFIO_PCI_CONFIG_REGION_INDEX };
  if (ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &cfg)) DIE("config region info");
  uint16_t cmd;
  if (pread(dev, &cmd, 2, (off_t)cfg.offset + 4) != 2) DIE("read command");
  cmd |= 0x4;
  if (pwrite(dev, &cmd, 2, (off_t)cfg.offset + 4) != 2) DIE("write command");

  int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd < 0) DIE("eventfd");
  char buf[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
  struct vfio_irq_set *set = (struct vfio_irq_set *)buf;
  *set = (struct vfio_irq_set){ .argsz = sizeof buf, .flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
                                .index = VFIO_PCI_MSI_IRQ_INDEX, .start = 0, .count = 1 };
  memcpy(set->data, &efd, sizeof efd);
  if (ioctl(dev, VFIO_DEVICE_SET_IRQS, set)) DIE("VFIO_DEVICE_SET_IRQS (MSI)");

  for (int i = 0; i < count; i++) {
    uint64_t t0 = now_ns();
    regs[0x60 / 4] = 1;
    struct pollfd p = { .fd = efd, .events = POLLIN };
    if (poll(&p, 1, 5000) != 1) DIE("poll: no interrupt after 5 s");
    uint64_t t1 = now_ns();
    uint64_t n;
    if (read(efd, &n, 8) != 8) DIE("read eventfd");
    regs[0x64 / 4] = 1;
    printf("%llu\n", (unsigned long long)(t1 - t0));
  }

  struct vfio_irq_set off = { .argsz = sizeof off, .flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
                              .index = VFIO_PCI_MSI_IRQ_INDEX, .start = 0, .count = 0 };
  if (ioctl(dev, VFIO_DEVICE_SET_IRQS, &off)) DIE("disable MSI");
  close(efd);
  munmap((void *)regs, bar.size);
  close(dev);
  close(group);
  close(container);
  return 0;
}
