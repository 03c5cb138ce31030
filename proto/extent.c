/* extent.c: walking the data and holes of a file (SEEK_DATA, SEEK_HOLE),
 * for both ends of a transfer: holes travel as HOLE chunks, not zeros. */
#include <errno.h>
#include <unistd.h>

#include "protocol.h"

void file_next_data(int fd, uint64_t pos, uint64_t size, uint64_t *data, uint64_t *end)
{
    off_t d = lseek(fd, pos, SEEK_DATA);

    if (d < 0) {
        /* ENXIO: nothing but a hole is left; other errors: no SEEK_DATA
         * here, so everything is data */
        *data = errno == ENXIO ? size : pos;
        *end = size;
        return;
    }
    if ((uint64_t) d > size)
        d = size; /* the file grew since its size was taken */
    *data = d;
    off_t h = lseek(fd, d, SEEK_HOLE);
    *end = h < 0 || (uint64_t) h > size ? size : (uint64_t) h;
}
