/* wire.h: framing of ferry messages on one byte stream, shared by the
 * host program and the daemon. A frame is a 32-bit big-endian word: either
 * a length (<= FERRY_MAX_MESSAGE) followed by that many bytes of message,
 * or one of the FERRY_WORD_* special words. See docs/protocol.md.
 *
 * The transport is any file descriptor that carries bytes both ways: a
 * virtio-serial port in the appliance, a socketpair in tests. Nothing above
 * this layer knows which. */
#ifndef FERRY_WIRE_H
#define FERRY_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "protocol.h"

#define FERRY_HEADER_SIZE 24 /* six XDR words */
#define FERRY_CHUNK_HEAD_SIZE 12

/* What wire_read_frame found. */
enum wire_kind {
    WIRE_MESSAGE, /* hdr, body and body_len are set */
    WIRE_LAUNCH,
    WIRE_CANCEL,
    WIRE_SYNC,  /* sync_id is set */
    WIRE_DELIM, /* sync_id is set */
};

struct wire_frame {
    enum wire_kind kind;
    struct ferry_header hdr;
    const unsigned char *body; /* into the wire's buffer: valid until the next read */
    size_t body_len;
    uint64_t sync_id;
};

struct wire {
    int fd;                  /* non-blocking: every wait is a poll with a limit */
    int timeout_ms;          /* longest wait for the start of a frame; -1 forever */
    int frame_timeout_ms;    /* the rest of a frame, once begun, must arrive
                                   within this (one limit for the whole frame,
                                   not for each read); -1: timeout_ms */
    int write_timeout_ms;    /* longest a write may wait for the peer to read;
                                   -1 forever */
    bool write_yields;       /* a write blocked on a full channel stops (EAGAIN)
                             as soon as the peer speaks; wire_resume goes on
                             with the rest of the frame */
    struct iovec pending[2]; /* what is left of the frame being written */
    int npending;
    size_t discard_limit; /* most bytes wire_discard_until throws away
                                   before giving up; 0: no limit */
    unsigned char *in;    /* buffered input, in[start..end) unread */
    size_t start, end;
    uint64_t received;  /* bytes read from fd, ever: a sign of life */
    unsigned char *out; /* a message being encoded */
    char error[256];    /* why the last call failed */
};

/* Sets fd non-blocking; all timeouts start at -1 (forever). */
int wire_init(struct wire *w, int fd);
void wire_free(struct wire *w);
/* Zero the buffers of a wire after a message holding a secret (a key) went
 * through: what was read, and what was sent. The unread input stays. */
void wire_wipe(struct wire *w);

/* Read the next frame. Returns 0, or -1 with errno and w->error set:
 *   ETIMEDOUT  nothing arrived for timeout_ms
 *   ECONNRESET the peer closed the stream
 *   EBADMSG    the stream is not at a frame (bad length or header); the
 *              offending bytes are still buffered for wire_discard_until. */
int wire_read_frame(struct wire *w, struct wire_frame *f);

/* Is a frame's first word already readable, without waiting? 1/0/-1. */
int wire_input_pending(struct wire *w);

/* Throw input away up to and including `word` followed by an 8-byte id,
 * scanning byte by byte (the stream may be misaligned). With want_id, an
 * occurrence with another id is skipped. The whole search must end within
 * timeout_ms and discard_limit bytes. Returns 0 and sets *id, or -1
 * (ETIMEDOUT, ECONNRESET, or EMSGSIZE past the limit). */
int wire_discard_until(struct wire *w, uint32_t word, const uint64_t *want_id, uint64_t *id);

/* Send one message: header, XDR-encoded body (xdr_body may be NULL), then
 * `raw` bytes unencoded (the data of a chunk). Returns 0 or -1 (errno). */
int wire_send(struct wire *w, const struct ferry_header *hdr, xdrproc_t xdr_body, const void *body,
              const void *raw, size_t raw_len);

/* Go on writing the frame a yielding write stopped in (see write_yields):
 * the rest of it, with the data pointer given to wire_send, which must
 * still be valid. 0 or -1, as wire_send. */
int wire_resume(struct wire *w);

/* Send a special word, with an id after it for SYNC and DELIM. */
int wire_send_word(struct wire *w, uint32_t word, uint64_t id);

/* Decode exactly len bytes as one value; on failure, what was allocated is
 * freed. Returns 0 or -1 (EBADMSG). */
int xdr_decode_bytes(const void *buf, size_t len, xdrproc_t fn, void *out);

/* Decode a body that wire_read_frame returned. Returns 0 or -1 (EBADMSG). */
int wire_decode(const struct wire_frame *f, xdrproc_t xdr_body, void *body);

/* Send a chunk of call `serial` / procedure `proc`. */
int wire_send_chunk(struct wire *w, uint32_t proc, uint32_t serial, enum ferry_chunk_kind kind,
                    uint64_t hole_length, const void *data, size_t len);

/* Split a chunk message into its head and data. Returns 0 or -1 (EBADMSG). */
int wire_chunk(const struct wire_frame *f, struct ferry_chunk_head *head,
               const unsigned char **data, size_t *len);

/* Write all of buf to fd; when fd is non-blocking, the whole write must
 * end within timeout_ms (-1 forever), else ETIMEDOUT. */
int write_all(int fd, const void *buf, size_t len, int timeout_ms);

/* Milliseconds on a monotonic clock, and a deadline that many ms from now
 * (-1 for none); the time left before a deadline (-1 for none, 0 past it). */
int64_t wire_now_ms(void);
int64_t wire_deadline(int timeout_ms);
int wire_left_ms(int64_t deadline);

#endif
