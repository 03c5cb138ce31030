/* appliance.h: the appliance carried inside the ferry executable. */
#ifndef FERRY_APPLIANCE_H
#define FERRY_APPLIANCE_H

#include <stddef.h>

/* The kernel release the appliance runs, e.g. "6.1.192". */
const char *appliance_kernel_version(void);

/* Unpack the kernel and initramfs into sealed memory-backed files (nothing
 * touches the disk). Returns 0 with the two descriptors, or -1 with a
 * message in err. */
int appliance_unpack(int *kernel_fd, int *initrd_fd, char *err, size_t errsz);

/* The qemu ferry carries ("7.2.22 (Debian 1:7.2+dfsg-7+deb12u18)"), and
 * unpacking it and its firmware (qboot) the same way: the program is run
 * from its memory file (fexecve). */
const char *appliance_qemu_version(void);
int appliance_unpack_qemu(int *qemu_fd, int *bios_fd, char *err, size_t errsz);

/* The saved appliance: the machine signature it was saved with (what qemu's
 * command line must be to resume it; see cli/launch/qemu.c), or NULL if
 * this ferry carries none; and its qemu state, decompressed into fd (a
 * pipe qemu reads as it goes): 0, or -1 with a message in err. */
const char *appliance_state_signature(void);
int appliance_stream_state(int fd, char *err, size_t errsz);

#endif
