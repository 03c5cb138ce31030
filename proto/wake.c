/* wake.c: the wake record's bytes (wake.h). */
#include <string.h>

#include "wake.h"

static void put(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--, v >>= 8)
        p[i] = v & 0xff;
}

static uint64_t get(const unsigned char *p, int bytes)
{
    uint64_t v = 0;

    for (int i = 0; i < bytes; i++)
        v = v << 8 | p[i];
    return v;
}

void wake_encode(const struct ferry_wake *w, unsigned char out[FERRY_WAKE_SIZE])
{
    put(out, FERRY_WAKE_MAGIC, 8);
    put(out + 8, (uint64_t) w->sec, 8);
    put(out + 16, w->nsec, 4);
    put(out + 20, w->disks, 4);
    put(out + 24, w->flags, 4);
    memcpy(out + 28, w->seed, FERRY_WAKE_SEED);
}

bool wake_decode(const unsigned char in[FERRY_WAKE_SIZE], struct ferry_wake *w)
{
    if (get(in, 8) != FERRY_WAKE_MAGIC)
        return false;
    w->sec = (int64_t) get(in + 8, 8);
    w->nsec = get(in + 16, 4);
    w->disks = get(in + 20, 4);
    w->flags = get(in + 24, 4);
    memcpy(w->seed, in + 28, FERRY_WAKE_SEED);
    return w->nsec < 1000000000u;
}
