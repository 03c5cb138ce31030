/* key.h: the passphrase of encrypted volumes, from a key file, standard
 * input or the terminal. There is one key in a run of ferry; it is kept in
 * locked memory and wiped when the run is done. */
#ifndef FERRY_KEY_H
#define FERRY_KEY_H

#include <stdbool.h>
#include <stddef.h>

#include "protocol.h"

struct key {
    unsigned char bytes[FERRY_MAX_KEY];
    size_t len;
    bool from_tty;   /* typed: another try may be asked for */
    bool ends_in_nl; /* a key file whose last byte is a newline */
};

/* Read --key-file PATH ("-": standard input) whole, every byte as it is,
 * as cryptsetup --key-file does. 0, or -1 reported. */
int key_read_file(const char *path);
/* Ask for the passphrase of `what` on the terminal, without echo, when
 * standard input is one: 0, 1 when there is no terminal, -1 with the
 * reason in msg. */
int key_ask(const char *what, char *msg, size_t size);
/* The key, or NULL when none was given or asked for yet. */
const struct key *key_get(void);
/* Wipe it (a wrong one typed, or the run is done). */
void key_forget(void);

#endif
