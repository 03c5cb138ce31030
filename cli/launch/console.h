/* console.h: what the guest's console and qemu say, kept in bounded rings
 * by a thread of its own (a guest that prints for ever costs 64 KiB), shown
 * live on stderr, escaped, with -v, and the last lines when a launch fails
 * or the appliance is lost. */
#ifndef FERRY_CONSOLE_H
#define FERRY_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>

/* Start the thread; *guest gets the descriptor the guest's serial console
 * writes to (one end of a socketpair, for qemu's -chardev socket,fd=), and
 * *qemu the one qemu's stderr goes to. 0, or -1 (errno). Once per run:
 * every qemu of the run writes to the same ones. */
int console_start(bool verbose, int *guest, int *qemu);
/* What each has said so far, all told (bytes): signs of life. */
uint64_t console_guest_bytes(void);
/* Did qemu say this (in what the ring still holds), since `mark` (a value
 * of console_qemu_mark(); 0: ever)? */
bool console_qemu_said(const char *needle, uint64_t mark);
uint64_t console_qemu_mark(void);
/* The first line of the guest's console holding needle, into out (""). */
void console_guest_line(const char *needle, char *out, size_t size);
/* Take in whatever is waiting in both, now: after qemu exited, so that
 * its last words are in the ring before they are searched. */
void console_drain(void);
/* The last lines of both, on stderr, escaped. */
void console_tail(void);

#endif
