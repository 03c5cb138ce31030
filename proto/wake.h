/* wake.h: waking a saved appliance.
 *
 * ferry's build boots the appliance once with "ferry.wake" on the kernel
 * command line: ferryd zeroes the guest's free memory, writes
 * FERRY_WAKE_READY on its channel and blocks reading a wake record; qemu's
 * state is saved at that moment. Each run resumes that state and writes a
 * fresh wake record first, which tells the one appliance every run shares
 * what is new about this run: the host's time, fresh random bytes, how
 * many disks it was given. Then ferryd says hello as after a boot. The
 * record is fixed-size and big-endian, like the rest of the wire. */
#ifndef FERRY_WAKE_H
#define FERRY_WAKE_H

#include <stdbool.h>
#include <stdint.h>

#define FERRY_WAKE_READY "FERRY-READY-TO-SAVE\n"
#define FERRY_WAKE_MAGIC 0x6665727279776b31ull /* "ferrywk1" */
#define FERRY_WAKE_SEED 64
#define FERRY_WAKE_SIZE (8 + 8 + 4 + 4 + 4 + FERRY_WAKE_SEED)

/* The saved appliance's disk slots (cli/launch/launch.h: SAVED_DISKS) at
 * most, and the serial of an empty one. */
#define SAVED_DISKS_MAX 26
#define FERRY_WAKE_EMPTY "ferry-empty"

/* flags */
#define FERRY_WAKE_VERBOSE 1u /* the console at the kernel's debug level */

struct ferry_wake {
    int64_t sec; /* the host's CLOCK_REALTIME */
    uint32_t nsec;
    uint32_t disks; /* virtio disks attached to this run */
    uint32_t flags;
    unsigned char seed[FERRY_WAKE_SEED]; /* from the host's getrandom() */
};

void wake_encode(const struct ferry_wake *w, unsigned char out[FERRY_WAKE_SIZE]);
/* false if the bytes are not a wake record of this version */
bool wake_decode(const unsigned char in[FERRY_WAKE_SIZE], struct ferry_wake *w);

#endif
