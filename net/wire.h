/* wire.h - confab's wire format: preamble, frames and session records. */
#ifndef CONFAB_WIRE_H
#define CONFAB_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* See net/PROTOCOL.md for the normative description. */

#define WIRE_MAGIC          "CONFAB"
#define WIRE_PREAMBLE_LEN   8
#define WIRE_VERSION        1
#define WIRE_CIPHER_CHACHA  0x01
#define WIRE_CIPHER_AESGCM  0x02

#define WIRE_FRAME_HDR      2          /* u16 big-endian length */
#define WIRE_FRAME_MAX      65535      /* largest frame body (a Noise message) */
#define WIRE_RECORD_MAX     (WIRE_FRAME_MAX - 16)   /* largest plaintext record */
#define WIRE_HS_MAX         256        /* largest handshake message we accept */

#define WIRE_ID_LEN         16
#define WIRE_NICK_MAX       64         /* bytes of UTF-8 */
#define WIRE_TEXT_MAX       4096       /* bytes of UTF-8 in one MSG */
#define WIRE_BYE_TEXT_MAX   128        /* bytes a BYE text may carry */
#define WIRE_XFER_TEXT_MAX  128        /* bytes a CANCEL or XFER_RESULT text may carry */
#define WIRE_HS_TIMEOUT_MS  10000      /* a handshake must complete within this */
#define WIRE_RESULT_TIMEOUT_MS 30000   /* a sender waits this long for XFER_RESULT */

/* Record types. */
#define REC_HELLO   0x01
#define REC_MSG     0x02
#define REC_ACK     0x03
#define REC_PING    0x04
#define REC_PONG    0x05
#define REC_BYE     0x06

/* File transfer records (see PROTOCOL.md, "File transfer"). */
#define REC_OFFER       0x10
#define REC_OFFER_PART  0x11
#define REC_ACCEPT      0x12
#define REC_RESUME      0x13
#define REC_DATA        0x14
#define REC_FILE_END    0x15
#define REC_XFER_DONE   0x16
#define REC_XFER_RESULT 0x17
#define REC_CANCEL      0x18

#define XFER_KEY_LEN        32
#define XFER_MAC_LEN        16
#define XFER_DATA_HDR       (1 + 4 + 4 + 8)
#define XFER_DATA_MAX       (WIRE_RECORD_MAX - XFER_DATA_HDR)
#define XFER_PATH_MAX       4096

/* CANCEL reasons. */
#define XCANCEL_USER     0
#define XCANCEL_REJECT   1
#define XCANCEL_FAILED   2
#define XCANCEL_BUSY     3
#define XCANCEL_NOSPACE  4
#define XCANCEL_PROTOCOL 5

/* CANCEL direction: which of the CANCEL sender's transfers it means. */
#define XDIR_SENDING     0
#define XDIR_RECEIVING   1

/* RESUME entry flags. */
#define XRESUME_DONE     0x01   /* the receiver has this file complete */

/* BYE reasons. */
#define BYE_QUIT      0
#define BYE_DUPLICATE 1
#define BYE_PROTOCOL  2
#define BYE_BLOCKED   3
#define BYE_BUSY      4

/* HELLO capability bits. */
#define CAP_MSG     0x00000001u    /* exchanges MSG (every version-1 peer sets it) */
#define CAP_NOFILES 0x00000002u    /* takes no file transfers: do not OFFER to it */
#define CAP_ONESHOT 0x00000004u    /* a one-shot sender: listens nowhere, not to be kept as a peer */

/* XFER_RESULT statuses. */
#define XRESULT_OK      0          /* every file verified and in place */
#define XRESULT_FAILED  1          /* the receiver could not finish (text says why) */

#define WIRE_OK        0
#define WIRE_EUNKNOWN  1    /* a record type we do not know: ignore it */
#define WIRE_EMALFORMED -1

struct rec_hello {
	uint16_t       version;
	uint32_t       caps;
	const uint8_t *nick;
	size_t         nick_len;
	uint16_t       port;           /* extension 1: the port it listens on (0: not said) */
	const uint8_t *onion;          /* extension 2: its onion service id (56 base32), or NULL */
	uint16_t       onion_port;     /* ... and port */
	const uint8_t *roomkey;        /* extension 3: Ed25519 key + binding (96 bytes), or NULL */
};

#define HELLO_EXT_PORT  1
#define HELLO_EXT_ONION 2           /* 56 bytes of a v3 onion id (a-z, 2-7), u16 port */
#define WIRE_ONION_LEN  56

struct rec_msg {
	uint8_t        id[WIRE_ID_LEN];
	uint64_t       ts_ms;
	const uint8_t *text;
	size_t         text_len;
};

struct rec_bye {
	uint8_t        reason;
	const uint8_t *text;
	size_t         text_len;
};

struct rec_offer {
	uint8_t        id[WIRE_ID_LEN];
	uint32_t       handle;
	uint32_t       count;          /* entries that OFFER_PART records will carry */
	uint64_t       total;          /* sum of file sizes */
	uint8_t        key[XFER_KEY_LEN];   /* resume proof key */
};

/* A list of entries borrowed from the record; walk it with wire_next_*. */
struct rec_list {
	uint32_t       handle;
	uint32_t       first;          /* OFFER_PART: index of the first entry */
	uint16_t       count;
	const uint8_t *p;              /* the encoded entries */
	size_t         len;
};

struct rec_data {
	uint32_t       handle;
	uint32_t       index;
	uint64_t       offset;
	const uint8_t *p;
	size_t         len;
};

struct rec_file_end {
	uint32_t       handle;
	uint32_t       index;
	uint64_t       size;
	uint8_t        status;         /* 0: complete; else the source failed */
};

struct rec_result {                    /* XFER_RESULT and CANCEL */
	uint32_t       handle;
	uint8_t        code;           /* result status, or cancel reason */
	uint8_t        dir;            /* CANCEL only: XDIR_*, or anything else (the caller checks) */
	const uint8_t *text;
	size_t         text_len;       /* up to 255: over WIRE_XFER_TEXT_MAX is the caller's error */
};

struct wire_entry {                    /* one OFFER_PART entry */
	const uint8_t *path;
	size_t         path_len;
	uint8_t        type;           /* 0 file, 1 directory, else the caller refuses the offer */
	uint64_t       size;
	int64_t        mtime_ns;
	uint32_t       mode;
};

struct wire_resume {                   /* one RESUME entry */
	uint32_t       index;
	uint64_t       offset;
	uint8_t        flags;
	uint8_t        mac[XFER_MAC_LEN];
};

/* A decoded record; pointers borrow from the decoded bytes. */
struct record {
	uint8_t type;
	union {
		struct rec_hello    hello;
		struct rec_msg      msg;
		uint8_t             ack_id[WIRE_ID_LEN];
		uint64_t            ping;
		struct rec_bye      bye;
		struct rec_offer    offer;
		struct rec_list     list;       /* OFFER_PART, RESUME */
		uint32_t            handle;     /* ACCEPT (count in list.count), XFER_DONE */
		struct rec_data     data;
		struct rec_file_end fend;
		struct rec_result   result;     /* XFER_RESULT, CANCEL */
		struct { const uint8_t *p; size_t n; } raw;   /* room records: the whole record */
	} u;
	uint32_t accept_resumes;            /* ACCEPT: how many RESUME entries follow */
};

/* Build a preamble announcing version and cipher flags. */
void wire_preamble(uint8_t out[WIRE_PREAMBLE_LEN], uint8_t flags);
/* Check a peer's preamble; returns 0 and its flags, or -1 if it is not ours. */
int  wire_preamble_parse(const uint8_t in[WIRE_PREAMBLE_LEN], uint8_t *version, uint8_t *flags);

/*
 * Look for a complete frame at the front of in.  Returns 1 and its body (a
 * pointer into in) when one is there, 0 when more bytes are needed, and -1 when
 * the declared length exceeds max.
 */
int  wire_frame_peek(const struct buf *in, size_t max, const uint8_t **body, size_t *len);

/* Decode one record from plaintext; WIRE_EUNKNOWN for an unknown type. */
int  wire_decode(const uint8_t *p, size_t n, struct record *r);

int  wire_put_hello(struct buf *b, uint32_t caps, const char *nick, size_t nick_len, uint16_t port);
/* Append extension 2 (the onion id, 56 characters, and port) to the HELLO in b. */
int  wire_put_hello_onion(struct buf *b, const char *id, uint16_t port);
/* Append one extension to a HELLO just encoded. */
int  wire_put_hello_ext(struct buf *b, uint8_t type, const void *body, size_t len);
int  wire_put_msg(struct buf *b, const uint8_t id[WIRE_ID_LEN], uint64_t ts_ms,
                  const char *text, size_t text_len);
int  wire_put_ack(struct buf *b, const uint8_t id[WIRE_ID_LEN]);
int  wire_put_ping(struct buf *b, uint8_t type, uint64_t nonce);
int  wire_put_bye(struct buf *b, uint8_t reason, const char *text);

/* Walk the entries of an OFFER_PART (already validated by wire_decode). */
int  wire_next_entry(struct rec_list *l, struct wire_entry *e);
/* Walk the entries of a RESUME record. */
int  wire_next_resume(struct rec_list *l, struct wire_resume *e);

int  wire_put_offer(struct buf *b, const uint8_t id[WIRE_ID_LEN], uint32_t handle,
                    uint32_t count, uint64_t total, const uint8_t key[XFER_KEY_LEN]);
/* Start an OFFER_PART; then wire_put_entry until it fails with BUF_ETOOBIG, then wire_end_list. */
int  wire_begin_list(struct buf *b, uint8_t type, uint32_t handle, uint32_t first);
int  wire_put_entry(struct buf *b, const char *path, size_t path_len, uint8_t type,
                    uint64_t size, int64_t mtime_ns, uint32_t mode);
int  wire_put_resume(struct buf *b, const struct wire_resume *e);
/* Patch the entry count into a list record begun with wire_begin_list. */
void wire_end_list(struct buf *b, uint16_t count);
int  wire_put_accept(struct buf *b, uint32_t handle, uint32_t nresume);
/* The header of a DATA record; the caller appends the bytes. */
int  wire_put_data_hdr(struct buf *b, uint32_t handle, uint32_t index, uint64_t offset);
int  wire_put_file_end(struct buf *b, uint32_t handle, uint32_t index, uint64_t size, uint8_t status);
int  wire_put_xfer_done(struct buf *b, uint32_t handle);
int  wire_put_result(struct buf *b, uint32_t handle, uint8_t status, const char *text);
int  wire_put_cancel(struct buf *b, uint32_t handle, uint8_t dir, uint8_t reason, const char *text);

/* A name for a record type, for logs. */
const char *wire_type_name(uint8_t type);

#endif
