/* fuzz_socks.c - libFuzzer target for the SOCKS5 client's reading of a proxy's answers. */
#include "config.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "socks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Any broken invariant is a crash for libFuzzer to report. */
#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

/*
 * The first byte picks the set-up (login or not, a name or an IPv4 or IPv6
 * target) and how many bytes arrive per read; the rest is what the proxy
 * sends.  The client never consumes more than it was given, never past the
 * end of its reply, keeps its answers small, and stops for good once it
 * has failed or opened the tunnel.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct socks_conf conf;
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;
	struct socks s;
	struct buf out;
	char err[200];
	size_t off = 0, avail, chunk, used, sent = 0;
	uint8_t *copy;
	int r = 0;

	if (size < 1)
		return 0;
	socks_parse_url((data[0] & 1) ? "socks5://user:secret@127.0.0.1:1080" : "socks5://127.0.0.1:1080",
	    &conf, err, sizeof err);
	buf_init(&out, 4096);
	switch ((data[0] >> 1) & 3) {
	case 0:
		CHECK(socks_start_name(&s, &conf, "peer.example", 7470, &out) == 0);
		break;
	case 1:
		memset(&s4, 0, sizeof s4);
		s4.sin_family = AF_INET;
		s4.sin_port = htons(7470);
		CHECK(socks_start_addr(&s, &conf, (struct sockaddr *)&s4, &out) == 0);
		break;
	default:
		memset(&s6, 0, sizeof s6);
		s6.sin6_family = AF_INET6;
		s6.sin6_port = htons(7470);
		CHECK(socks_start_addr(&s, &conf, (struct sockaddr *)&s6, &out) == 0);
		break;
	}
	chunk = 1 + (data[0] >> 3);
	data++;
	size--;
	avail = 0;
	while (r == 0 && avail < size) {
		avail = avail + chunk > size ? size : avail + chunk;
		/* an exact-size copy, so that ASan catches any read past the end */
		if ((copy = malloc(avail - off ? avail - off : 1)) == NULL)
			break;
		memcpy(copy, data + off, avail - off);
		buf_reset(&out);
		r = socks_input(&s, copy, avail - off, &used, &out);
		free(copy);
		CHECK(used <= avail - off);
		CHECK(buf_len(&out) <= 4 + 1 + SOCKS_HOST_MAX + 2 + 1 + 2 * (1 + SOCKS_CRED_MAX));
		sent += buf_len(&out);
		off += used;
		CHECK(r == -1 || r == 0 || r == 1);
		if (r == -1)
			CHECK(s.step == SOCKS_FAILED && memchr(s.err, '\0', sizeof s.err) != NULL && s.err[0] != '\0');
		if (r == 1)
			CHECK(s.step == SOCKS_OK && off <= 2 + 2 + SOCKS_REPLY_MAX);
	}
	CHECK(sent <= 3 * 600);
	buf_free(&out);
	return 0;
}
