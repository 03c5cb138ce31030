/* image.h: disk image files: which format each is, and what of it qemu is
 * allowed to open. */
#ifndef FERRY_IMAGE_H
#define FERRY_IMAGE_H

#include <stdbool.h>

/* Every format ferry opens, for --format: raw and the common ones, then
 * those whose qemu drivers are rarely used (opened only when named). */
extern const char *const image_formats[];
bool image_format_rare(const char *format);
/* The format of the image at path, from its first bytes (never from
 * qemu's probing): NULL with the reason reported. */
const char *image_detect(const char *path);

#endif
