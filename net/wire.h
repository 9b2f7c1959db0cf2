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
#define WIRE_BYE_TEXT_MAX   128

/* Record types. */
#define REC_HELLO   0x01
#define REC_MSG     0x02
#define REC_ACK     0x03
#define REC_PING    0x04
#define REC_PONG    0x05
#define REC_BYE     0x06

/* BYE reasons. */
#define BYE_QUIT      0
#define BYE_DUPLICATE 1
#define BYE_PROTOCOL  2
#define BYE_BLOCKED   3
#define BYE_BUSY      4

/* HELLO capability bits. */
#define CAP_MSG     0x00000001u

#define WIRE_OK        0
#define WIRE_EUNKNOWN  1    /* a record type we do not know: ignore it */
#define WIRE_EMALFORMED -1

struct rec_hello {
	uint16_t       version;
	uint32_t       caps;
	const uint8_t *nick;
	size_t         nick_len;
};

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

/* A decoded record; pointers borrow from the decoded bytes. */
struct record {
	uint8_t type;
	union {
		struct rec_hello hello;
		struct rec_msg   msg;
		uint8_t          ack_id[WIRE_ID_LEN];
		uint64_t         ping;
		struct rec_bye   bye;
	} u;
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

int  wire_put_hello(struct buf *b, uint32_t caps, const char *nick, size_t nick_len);
int  wire_put_msg(struct buf *b, const uint8_t id[WIRE_ID_LEN], uint64_t ts_ms,
                  const char *text, size_t text_len);
int  wire_put_ack(struct buf *b, const uint8_t id[WIRE_ID_LEN]);
int  wire_put_ping(struct buf *b, uint8_t type, uint64_t nonce);
int  wire_put_bye(struct buf *b, uint8_t reason, const char *text);

/* A name for a record type, for logs. */
const char *wire_type_name(uint8_t type);

#endif
