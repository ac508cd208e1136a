/* The suspend guest's module loader: finit_module(2) on one file, no options. The test-workload
 * image has no kmod, and the guest needs the ACPI button driver (CONFIG_ACPI_BUTTON=m in Debian's
 * kernel) for the power button that ends s2idle. Built static by bench/suspend.sh.
 * Usage: finit MODULE.ko */
#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: finit MODULE.ko\n");
        return 2;
    }
    int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        perror("open");
        return 1;
    }
    if (syscall(SYS_finit_module, fd, "", 0) != 0) {
        perror("finit_module");
        return 1;
    }
    return 0;
}
