/*
 * The start-up row's C side (bench/host/startup.ts): `vfio list` done in C, as a small tool
 * would. For each device under ROOT/bus/pci/devices: ids and class, driver, IOMMU group, and
 * whether the group is viable (no member on a driver other than vfio-pci, pci-stub, pcieport);
 * one line each. `pci-list --exit` returns at once: the process's start and exit alone.
 *
 *   pci-list [ROOT]      (ROOT default /sys)
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* `dir`/`name`/`leaf` into `out` (PATH_MAX bytes); exits on a path too long. */
static void join3(char *out, const char *dir, const char *name, const char *leaf) {
  if (snprintf(out, PATH_MAX, "%s/%s/%s", dir, name, leaf) >= PATH_MAX) {
    fprintf(stderr, "path too long: %s/%s/%s\n", dir, name, leaf);
    exit(1);
  }
}

/* The first line of file `path` into `out` (newline dropped); "" when unreadable. */
static void read_line(const char *path, char *out, size_t size) {
  out[0] = '\0';
  FILE *f = fopen(path, "r");
  if (!f) return;
  if (fgets(out, (int)size, f)) out[strcspn(out, "\n")] = '\0';
  fclose(f);
}

/* The last component of the symlink `path` into `out`; "" when it is not a link. */
static void link_name(const char *path, char *out, size_t size) {
  char target[PATH_MAX];
  ssize_t n = readlink(path, target, sizeof target - 1);
  out[0] = '\0';
  if (n < 0) return;
  target[n] = '\0';
  const char *slash = strrchr(target, '/');
  const char *name = slash ? slash + 1 : target;
  if (strlen(name) >= size) return; /* not a name this table shows */
  memcpy(out, name, strlen(name) + 1);
}

static int safe_driver(const char *d) {
  return d[0] == '\0' || strstr(d, "vfio") || !strcmp(d, "pci-stub") || !strcmp(d, "pcieport");
}

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

static int visible(const struct dirent *e) { return e->d_name[0] != '.'; }

/* Whether every member of IOMMU group `group` is on a driver VFIO tolerates. */
static int group_viable(const char *root, const char *group) {
  char dir[PATH_MAX], devices[PATH_MAX], path[PATH_MAX], driver[256];
  join3(devices, root, "bus/pci", "devices");
  join3(dir, root, "kernel/iommu_groups", group);
  if (strlen(dir) + sizeof "/devices" > sizeof dir) return 0;
  strcat(dir, "/devices");
  DIR *d = opendir(dir);
  if (!d) return 0;
  int viable = 1;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    join3(path, devices, e->d_name, "driver");
    link_name(path, driver, sizeof driver);
    if (!safe_driver(driver)) viable = 0;
  }
  closedir(d);
  return viable;
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--exit")) return 0;
  const char *root = argc > 1 ? argv[1] : "/sys";
  char dir[PATH_MAX], path[PATH_MAX];
  join3(dir, root, "bus/pci", "devices");
  struct dirent **names;
  int n = scandir(dir, &names, visible, by_name);
  if (n < 0) {
    perror(dir);
    return 1;
  }
  printf("%-13s %-10s %-6s %-11s %-6s %s\n", "ADDRESS", "ID", "CLASS", "DRIVER", "GROUP", "VFIO-VIABLE");
  for (int i = 0; i < n; i++) {
    const char *addr = names[i]->d_name;
    char vendor[32], device[32], class[32], driver[256], group[32];
    join3(path, dir, addr, "vendor");
    read_line(path, vendor, sizeof vendor);
    join3(path, dir, addr, "device");
    read_line(path, device, sizeof device);
    join3(path, dir, addr, "class");
    read_line(path, class, sizeof class);
    join3(path, dir, addr, "driver");
    link_name(path, driver, sizeof driver);
    join3(path, dir, addr, "iommu_group");
    link_name(path, group, sizeof group);
    int viable = group[0] != '\0' && group_viable(root, group);
    printf("%-13s %s:%-5s %.6s %-11s %-6s %s\n", addr, vendor + 2, device + 2, class + 2, driver[0] ? driver : "-",
           group[0] ? group : "-", viable ? "yes" : "no");
    free(names[i]);
  }
  free(names);
  return 0;
}
