/*
 * unit_verify.c - the codes /verify shows, against a man in the middle.
 *
 * A and B are two victims; M1 and M2 are keys a man in the middle found with
 * tests/tools/mitm_search.c (a birthday search over 1.25 million keys, 38 s on
 * one core) so that the OLD code, 12 digits from the two static keys alone,
 * is the same for A talking to M1 as for B talking to M2.  The test shows
 * that the old code collides, and that the safety number and the session
 * code that replaced it do not: the session code of a real session A-M1
 * differs from that of a real session M2-B.  It also pins both codes to
 * known answers (net/PROTOCOL.md section 11), computed apart from this code.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core.h"
#include "identity.h"
#include "loop.h"
#include "noise.h"
#include "session.h"
#include "verify.h"
#include "tap.h"

/* The victims: BLAKE2b-256 of "confab unit_verify victim A" and "... B". */
static const char *A_priv = "e4fec385bdfc0eba2227c9b887aaca8b9ca5bb90e5589cbc926613560d4d523f";
static const char *A_pub  = "dc94fef55d02b25031092076d63bcad17541ec3718d5d040e89efbe6c9138e63";
static const char *B_priv = "008cc057dd25fc8f6e24030b957895819fced30770fd39dd45b9b0cb9bfb7e62";
static const char *B_pub  = "019a81fbf4b68e6c33b61f3458a60bf47c4bd76ca1fd27f72eb3305b17d0f76b";
/* The man in the middle: search candidates 1125648 and 54107. */
static const char *M1_priv = "521f603ab077a3fb5a85cef33ed42d8b6065c9c8c4a9b7163952bc57f9db75d4";
static const char *M1_pub  = "237e55541c60d044c0bf0f7d5d04111428d2ca1c8c4339e1adbbad43b2461321";
static const char *M2_priv = "2447f28be3f1173371c9dc336038fe5b7f9dd329455a87f13e764b1ffe2da19c";
static const char *M2_pub  = "9a85a91c2824091dab8e2c99a9d0aab62f13bd63748e91c2c13b62a053697746";

/* One party: its keys, its net, the last session it saw established. */
struct party {
	const char     *name;
	uint8_t         priv[NOISE_DHLEN], pub[NOISE_DHLEN];
	struct net     *net;
	struct session *s;
	int             nest;
};

/* 32 bytes from 64 hex digits (the test's own constants: abort if bad). */
static void
unhex(const char *hex, uint8_t out[32])
{
	size_t len;

	if (sodium_hex2bin(out, 32, hex, strlen(hex), NULL, &len, NULL) != 0 || len != 32)
		abort();
}

/*
 * The OLD code (confab-verify-1), kept here only to show the attack:
 * BLAKE2b-256("confab-verify-1" || smaller key || larger key), 8 bytes
 * big-endian mod 10^12.
 */
static uint64_t
old_code(const uint8_t *a, const uint8_t *b)
{
	crypto_generichash_state st;
	const uint8_t *t;
	uint8_t h[32];
	uint64_t v = 0;
	int i;

	if (memcmp(a, b, 32) > 0) {
		t = a;
		a = b;
		b = t;
	}
	crypto_generichash_init(&st, NULL, 0, sizeof h);
	crypto_generichash_update(&st, (const uint8_t *)"confab-verify-1", 15);
	crypto_generichash_update(&st, a, 32);
	crypto_generichash_update(&st, b, 32);
	crypto_generichash_final(&st, h, sizeof h);
	for (i = 0; i < 8; i++)
		v = v << 8 | h[i];
	return v % 1000000000000ull;
}

/* Whether s is digits in groups of g separated by single spaces, n digits in all. */
static int
grouped_digits(const char *s, int n, int g)
{
	int i = 0, d = 0;

	for (; s[i] != '\0'; i++) {
		if (i % (g + 1) == g) {
			if (s[i] != ' ')
				return 0;
		} else if (!isdigit((unsigned char)s[i])) {
			return 0;
		} else {
			d++;
		}
	}
	return d == n && i == n + n / g - 1;
}

/* Monotonic milliseconds. */
static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Turn the loop until cond holds or ms pass; yields whether it holds. */
#define RUN_UNTIL(l, cond, ms) __extension__ ({ \
	uint64_t end_ = now_ms() + (ms); \
	while (!(cond) && now_ms() < end_) \
		loop_once((l), 10); \
	(cond); \
})

static int
on_established(struct session *s, void *arg)
{
	struct party *p = arg;

	p->s = s;
	p->nest++;
	return 0;
}

static void
on_record(struct session *s, const struct record *r, void *arg)
{
	(void)s;
	(void)r;
	(void)arg;
}

static void
on_closed(struct session *s, const char *reason, void *arg)
{
	struct party *p = arg;

	(void)reason;
	if (p->s == s)
		p->s = NULL;
}

static const struct net_ops ops = {
	.established = on_established,
	.record = on_record,
	.closed = on_closed,
};

/* A party with a fixed private key, its net on loop l. */
static void
party_init(struct party *p, const char *name, const char *priv_hex, struct loop *l)
{
	memset(p, 0, sizeof *p);
	p->name = name;
	unhex(priv_hex, p->priv);
	noise_pubkey(p->priv, p->pub);
	if ((p->net = net_new(l, p->priv, &ops, p)) == NULL)
		abort();
}

/*
 * Run a session between i (initiator) and r over a socketpair; the session
 * codes each end sees go to ci and cr.  Returns whether both ends opened.
 */
static int
run_session(struct loop *l, struct party *i, struct party *r,
    char ci[VERIFY_CODE_LEN], char cr[VERIFY_CODE_LEN])
{
	int sv[2], ni = i->nest, nr = r->nest;

	ci[0] = cr[0] = '\0';
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		abort();
	if (net_adopt(r->net, sv[0], 0) == NULL || net_adopt(i->net, sv[1], 1) == NULL)
		abort();
	if (!RUN_UNTIL(l, i->nest > ni && r->nest > nr, 5000) || i->s == NULL || r->s == NULL ||
	    session_hash(i->s) == NULL || session_hash(r->s) == NULL)
		return 0;
	verify_session_code(session_hash(i->s), ci);
	verify_session_code(session_hash(r->s), cr);
	return 1;
}

/* Known answers, computed apart from this code (Python's hashlib.blake2b). */
static void
test_known_answers(void)
{
	uint8_t a[32], b[32], h[NOISE_HASHLEN];
	char safety[VERIFY_SAFETY_LEN], code[VERIFY_CODE_LEN];
	size_t i;

	unhex(A_pub, a);
	unhex(B_pub, b);
	verify_safety_number(a, b, safety);
	is_str(safety, "06540 78061 26942 94151 87825 99489 10367 22601 12913 03552 49811 70969",
	    "safety number of A and B: the known answer");
	verify_safety_number(b, a, safety);
	is_str(safety, "06540 78061 26942 94151 87825 99489 10367 22601 12913 03552 49811 70969",
	    "the same with the keys the other way round");
	ok(grouped_digits(safety, 60, 5), "60 digits in 12 groups of 5");
	for (i = 0; i < sizeof h; i++)
		h[i] = (uint8_t)i;
	verify_session_code(h, code);
	is_str(code, "739 797 918 244", "session code of h = 00 01 .. 3f: the known answer");
	ok(grouped_digits(code, 12, 3), "12 digits in 4 groups of 3");
}

/* The attack on the old code, and what the new codes make of the same keys. */
static void
test_mitm(void)
{
	struct loop *l = loop_new();
	struct party a, b, m1, m2;
	uint8_t pk[32];
	char sa[VERIFY_SAFETY_LEN], sb[VERIFY_SAFETY_LEN];
	char c1i[VERIFY_CODE_LEN], c1r[VERIFY_CODE_LEN], c2i[VERIFY_CODE_LEN], c2r[VERIFY_CODE_LEN];
	char c3i[VERIFY_CODE_LEN], c3r[VERIFY_CODE_LEN];

	party_init(&a, "A", A_priv, l);
	party_init(&b, "B", B_priv, l);
	party_init(&m1, "M1", M1_priv, l);
	party_init(&m2, "M2", M2_priv, l);
	unhex(A_pub, pk);
	ok(memcmp(a.pub, pk, 32) == 0, "A's public key is the one the search used");
	unhex(B_pub, pk);
	ok(memcmp(b.pub, pk, 32) == 0, "B's public key is the one the search used");
	unhex(M1_pub, pk);
	ok(memcmp(m1.pub, pk, 32) == 0, "M1's public key is the one the search found");
	unhex(M2_pub, pk);
	ok(memcmp(m2.pub, pk, 32) == 0, "M2's public key is the one the search found");

	/* the old code: what the attack defeats */
	printf("# old code A-M1 %012llu, B-M2 %012llu\n",
	    (unsigned long long)old_code(a.pub, m1.pub), (unsigned long long)old_code(b.pub, m2.pub));
	ok(old_code(a.pub, m1.pub) == old_code(b.pub, m2.pub),
	    "the OLD code collides: A talking to M1 and B talking to M2 would see the same 12 digits");

	/* the safety number */
	verify_safety_number(a.pub, m1.pub, sa);
	verify_safety_number(b.pub, m2.pub, sb);
	printf("# safety A-M1 %s\n# safety B-M2 %s\n", sa, sb);
	ok(strcmp(sa, sb) != 0, "the safety numbers A-M1 and B-M2 differ");
	verify_safety_number(m1.pub, a.pub, sb);
	is_str(sb, sa, "M1 sees the same safety number with A as A with M1");

	/* the session code, over real sessions A-M1 and M2-B */
	ok(run_session(l, &a, &m1, c1i, c1r), "a session A -> M1 opens");
	is_str(c1i, c1r, "A and M1 see the same session code (%s)", c1r);
	ok(run_session(l, &m2, &b, c2i, c2r), "a session M2 -> B opens");
	is_str(c2i, c2r, "M2 and B see the same session code (%s)", c2r);
	ok(c1i[0] != '\0' && strcmp(c1i, c2i) != 0,
	    "the session codes A-M1 and M2-B differ: the man in the middle is seen");
	ok(run_session(l, &m1, &a, c3i, c3r), "a second session between A and M1 (M1 -> A) opens");
	is_str(c3i, c3r, "both ends see the same code on it too (%s)", c3r);
	ok(c3i[0] != '\0' && strcmp(c3i, c1i) != 0,
	    "a new session between the same keys has a new code");
	net_free(a.net);
	net_free(b.net);
	net_free(m1.net);
	net_free(m2.net);
	loop_free(l);
}

/* verify_peer: the session code only while a session is open. */
static void
test_peer(void)
{
	struct loop *l = loop_new();
	static struct core c;
	static struct peer p;
	struct party a, b;
	char code[VERIFY_CODE_LEN], safety[VERIFY_SAFETY_LEN], want[VERIFY_CODE_LEN];
	char want_safety[VERIFY_SAFETY_LEN], ci[VERIFY_CODE_LEN], cr[VERIFY_CODE_LEN];

	party_init(&a, "A", A_priv, l);
	party_init(&b, "B", B_priv, l);
	memcpy(c.id.pub, a.pub, 32);
	memcpy(p.pk, b.pub, 32);
	verify_safety_number(a.pub, b.pub, want_safety);
	code[0] = 'x';
	is_int(verify_peer(&c, &p, code, safety), 0, "no session: no session code");
	is_str(code, "", "... and the code is empty");
	is_str(safety, want_safety, "but the safety number is there");
	ok(run_session(l, &a, &b, ci, cr), "a session A -> B opens");
	p.sess = a.s;
	is_int(verify_peer(&c, &p, code, safety), 1, "with an open session: a session code");
	verify_session_code(session_hash(a.s), want);
	is_str(code, want, "... that of the session");
	is_str(safety, want_safety, "and the same safety number");
	session_close(a.s, BYE_QUIT, "test");
	ok(session_hash(p.sess) == NULL, "a closed session has no handshake hash to show");
	is_int(verify_peer(&c, &p, code, safety), 0, "so no session code once it closes");
	net_free(a.net);
	net_free(b.net);
	loop_free(l);
}

int
main(void)
{
	if (noise_global_init() != 0)
		return 1;
	test_known_answers();
	test_mitm();
	test_peer();
	return tap_done();
}
