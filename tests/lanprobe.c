/* lanprobe.c - send hand-made discovery beacons and print the answers (tests only). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "beacon.h"
#include "buf.h"
#include "disc.h"
#include "identity.h"
#include "sock.h"

/*
 * Only for the namespace tests: it sends where it is told (the IPv4 group,
 * the IPv6 group on an interface, or ADDR:PORT) with TTL/hop limit 1.
 */
static const char usage_text[] =
"usage: lanprobe [-4 | -6 IFACE | -d ADDR:PORT] [-I IFACE] [-k HEX | -F FP | -K]\n"
"                [-n NICK] [-p PORT] [-f FLAGS] [-i SECS] [-s SEQ] [-N FP]...\n"
"                [-c COUNT] [-w MS] [-r FILE | -g] [-l MS] [-S A.B.C.D [-A N]]\n"
"  -4         send to " DISC_GROUP4 " (the interface from -I, else the routing table)\n"
"  -6 IFACE   send to " DISC_GROUP6 " on IFACE\n"
"  -d A:P     send to this address (unicast or broadcast)\n"
"  -k HEX     the key (64 hex digits); -F FP: the key of a fingerprint;\n"
"             -K: a new random key for every datagram\n"
"  -N FP      list FP's key in a KNOWN extension (repeatable)\n"
"  -n NICK, -p PORT (TCP, for both families), -f FLAGS, -i INTERVAL, -s SEQ\n"
"  -c COUNT   datagrams to send (default 1), -w MS between them (default 0)\n"
"  -r FILE    send FILE's bytes instead of a beacon; -g: random garbage\n"
"  -l MS      then listen MS ms and print each beacon received as a JSON line\n"
"  -S ADDR    send from this IPv4 address; with -A N, datagram i from ADDR + i % N\n"
"             (addresses the host has: a flood from many sources)\n";

/* Milliseconds on the monotonic clock. */
static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Print a received beacon as one JSON line (nick as hex: no escaping needed). */
static void
print_beacon(const struct sockaddr *from, const uint8_t *p, size_t n)
{
	struct beacon bc;
	char addr[SOCK_ADDRSTRLEN], key[BEACON_KEYLEN * 2 + 1], nick[BEACON_NICK_MAX * 2 + 1];
	char fp[FP_LEN + 1];
	int rc, i;

	sock_format(from, addr, sizeof addr);
	rc = beacon_decode(p, n, &bc);
	if (rc != BEACON_OK) {
		printf("{\"from\":\"%s\",\"error\":%d,\"len\":%zu}\n", addr, rc, n);
		return;
	}
	sodium_bin2hex(key, sizeof key, bc.key, BEACON_KEYLEN);
	sodium_bin2hex(nick, sizeof nick, bc.nick, bc.nick_len);
	fp_encode(bc.key, fp);
	printf("{\"from\":\"%s\",\"flags\":%u,\"seq\":%u,\"interval\":%u,\"key\":\"%s\",\"fp\":\"%s\","
	    "\"nick_hex\":\"%s\",\"ports\":[", addr, bc.flags, bc.seq, bc.interval_s, key, fp, nick);
	for (i = 0; i < bc.nports; i++)
		printf("%s{\"af\":%u,\"port\":%u}", i ? "," : "", bc.ports[i].af, bc.ports[i].port);
	printf("]}\n");
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	struct sockaddr_storage to;
	socklen_t tolen = 0;
	struct beacon bc;
	uint8_t key[BEACON_KEYLEN], raw[2048], *rawp = NULL, known[64 * BEACON_PREFIX_LEN], k2[BEACON_KEYLEN];
	size_t nknown = 0;
	const char *nick = "probe", *iface = NULL, *rawfile = NULL;
	long count = 1, wait_ms = 0, listen_ms = 0, seq = -1;
	size_t rawlen = 0, keylen = 0;
	int opt, fd, one = 1, ttl = 1, random_key = 0, garbage = 0, port = 7470;
	int flags = 0, interval = 30, ifindex = 0, nsrc = 0, *srcfd = NULL;
	struct in_addr src = { 0 };
	long i;

	if (sodium_init() < 0)
		return 1;
	memset(&to, 0, sizeof to);
	randombytes_buf(key, sizeof key);
	while ((opt = getopt(argc, argv, "46:d:I:k:F:KN:n:p:f:i:s:c:w:r:gl:S:A:h")) != -1) {
		switch (opt) {
		case '4':
			sock_parse(DISC_GROUP4, DISC_PORT, &to, &tolen);
			break;
		case '6':
			sock_parse(DISC_GROUP6, DISC_PORT, &to, &tolen);
			if ((ifindex = (int)if_nametoindex(optarg)) == 0) {
				fprintf(stderr, "lanprobe: no interface %s\n", optarg);
				return 2;
			}
			((struct sockaddr_in6 *)&to)->sin6_scope_id = (uint32_t)ifindex;
			break;
		case 'd':
			if (sock_parse(optarg, DISC_PORT, &to, &tolen) == -1) {
				fprintf(stderr, "lanprobe: bad address %s\n", optarg);
				return 2;
			}
			break;
		case 'I':
			iface = optarg;
			break;
		case 'k':
			if (sodium_hex2bin(key, sizeof key, optarg, strlen(optarg), NULL, &keylen, NULL) != 0 ||
			    keylen != sizeof key) {
				fprintf(stderr, "lanprobe: -k takes 64 hex digits\n");
				return 2;
			}
			break;
		case 'F':
			if (fp_decode(optarg, key) != 0) {
				fprintf(stderr, "lanprobe: -F takes a fingerprint\n");
				return 2;
			}
			break;
		case 'N':
			if (fp_decode(optarg, k2) != 0 || nknown == 64) {
				fprintf(stderr, "lanprobe: -N takes a fingerprint (64 at most)\n");
				return 2;
			}
			memcpy(known + nknown++ * BEACON_PREFIX_LEN, k2, BEACON_PREFIX_LEN);
			break;
		case 'K':
			random_key = 1;
			break;
		case 'n':
			nick = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'f':
			flags = atoi(optarg);
			break;
		case 'i':
			interval = atoi(optarg);
			break;
		case 's':
			seq = atol(optarg);
			break;
		case 'c':
			count = atol(optarg);
			break;
		case 'w':
			wait_ms = atol(optarg);
			break;
		case 'r':
			rawfile = optarg;
			break;
		case 'g':
			garbage = 1;
			break;
		case 'l':
			listen_ms = atol(optarg);
			break;
		case 'S':
			if (inet_pton(AF_INET, optarg, &src) != 1) {
				fprintf(stderr, "lanprobe: -S takes an IPv4 address\n");
				return 2;
			}
			nsrc = nsrc > 0 ? nsrc : 1;
			break;
		case 'A':
			nsrc = atoi(optarg);
			if (nsrc < 1 || nsrc > 1000) {
				fprintf(stderr, "lanprobe: -A takes 1..1000\n");
				return 2;
			}
			break;
		default:
			fputs(usage_text, stderr);
			return 2;
		}
	}
	if (tolen == 0) {
		fputs(usage_text, stderr);
		return 2;
	}
	if (rawfile != NULL) {
		FILE *f = fopen(rawfile, "rb");

		if (f == NULL) {
			perror(rawfile);
			return 2;
		}
		rawlen = fread(raw, 1, sizeof raw, f);
		fclose(f);
		rawp = raw;
	}
	fd = socket(to.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		perror("socket");
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
	if (to.ss_family == AF_INET) {
		setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl);
		setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl);
		if (iface != NULL) {
			struct ip_mreqn mr;

			memset(&mr, 0, sizeof mr);
			mr.imr_ifindex = (int)if_nametoindex(iface);
			setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof mr);
		}
	} else {
		setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &ttl, sizeof ttl);
		setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof ttl);
	}
	if (src.s_addr != 0) {
		/* one more socket per source address, set up as the first */
		if (to.ss_family != AF_INET || (srcfd = calloc((size_t)nsrc, sizeof *srcfd)) == NULL) {
			fprintf(stderr, "lanprobe: -S needs IPv4\n");
			return 2;
		}
		for (i = 0; i < nsrc; i++) {
			struct sockaddr_in sin = { .sin_family = AF_INET };
			struct ip_mreqn mr;

			sin.sin_addr.s_addr = htonl(ntohl(src.s_addr) + (uint32_t)i);
			memset(&mr, 0, sizeof mr);
			mr.imr_ifindex = iface != NULL ? (int)if_nametoindex(iface) : 0;
			if ((srcfd[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1 ||
			    bind(srcfd[i], (struct sockaddr *)&sin, sizeof sin) == -1) {
				perror("lanprobe: source address");
				return 1;
			}
			setsockopt(srcfd[i], SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
			setsockopt(srcfd[i], IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl);
			setsockopt(srcfd[i], IPPROTO_IP, IP_TTL, &ttl, sizeof ttl);
			if (iface != NULL)
				setsockopt(srcfd[i], IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof mr);
		}
	}
	for (i = 0; i < count; i++) {
		struct buf b;
		const uint8_t *p;
		size_t n;

		buf_init(&b, BEACON_MAX);
		if (garbage) {
			n = 1 + randombytes_uniform(200);
			randombytes_buf(raw, n);
			if (randombytes_uniform(2))
				memcpy(raw, BEACON_MAGIC, BEACON_MAGIC_LEN);   /* get past the sniff */
			p = raw;
		} else if (rawp != NULL) {
			p = rawp;
			n = rawlen;
		} else {
			if (random_key)
				randombytes_buf(key, sizeof key);
			memset(&bc, 0, sizeof bc);
			bc.flags = (uint8_t)flags;
			bc.seq = seq >= 0 ? (uint32_t)seq : randombytes_random();
			bc.interval_s = (uint16_t)interval;
			memcpy(bc.key, key, sizeof key);
			bc.nports = 0;
			if (!(flags & BEACON_GOODBYE)) {
				bc.ports[0].af = BEACON_AF_INET;
				bc.ports[0].port = (uint16_t)port;
				bc.ports[1].af = BEACON_AF_INET6;
				bc.ports[1].port = (uint16_t)port;
				bc.nports = 2;
			}
			bc.nick = (const uint8_t *)nick;
			bc.nick_len = strlen(nick);
			bc.known = known;
			bc.nknown = nknown;
			if (beacon_encode(&b, &bc) < 0) {
				fprintf(stderr, "lanprobe: cannot encode\n");
				return 1;
			}
			p = buf_ptr(&b);
			n = buf_len(&b);
		}
		if (sendto(srcfd != NULL ? srcfd[i % nsrc] : fd, p, n, 0, (struct sockaddr *)&to, tolen) == -1)
			fprintf(stderr, "lanprobe: send: %s\n", strerror(errno));
		buf_free(&b);
		if (wait_ms > 0)
			usleep((useconds_t)wait_ms * 1000);
	}
	if (listen_ms > 0) {
		long long end = mono_ms() + listen_ms;
		struct pollfd pfd = { fd, POLLIN, 0 };

		for (;;) {
			long long left = end - mono_ms();
			struct sockaddr_storage from;
			socklen_t fromlen = sizeof from;
			ssize_t r;

			if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
				break;
			r = recvfrom(fd, raw, sizeof raw, 0, (struct sockaddr *)&from, &fromlen);
			if (r > 0)
				print_beacon((struct sockaddr *)&from, raw, (size_t)r);
		}
	}
	close(fd);
	return 0;
}
