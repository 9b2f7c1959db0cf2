/* fuzz_config.c - libFuzzer target for the configuration file parser (app/conffile.c). */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conffile.h"
#include "sock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Any broken invariant is a crash for libFuzzer to report. */
#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

/* Counts problems; every message must be one clean, bounded line. */
static void
on_warn(void *arg, const char *msg)
{
	size_t n = strlen(msg), i;

	CHECK(n > 0 && n < 8192);
	for (i = 0; i < n; i++)
		CHECK((unsigned char)msg[i] >= 0x20 && msg[i] != 0x7f);
	(*(int *)arg)++;
}

/* Whether s is NUL-terminated within n bytes and free of control characters. */
static int
clean_str(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return i < n;
}

/* Every value within its documented range. */
static void
check_valid(const struct config *c)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int i;

	CHECK((c->set & c->bad) == 0);   /* a key with a bad value stays unset */
	CHECK((c->set & ~(CONFIG_BIT(CONFIG_NKEYS) - 1)) == 0);
	CHECK(clean_str(c->nick, sizeof c->nick) && strchr(c->nick, ' ') == NULL);
	CHECK(c->nlisten >= 0 && c->nlisten <= CONFIG_LISTEN_MAX);
	for (i = 0; i < c->nlisten; i++) {
		CHECK(clean_str(c->listen[i], sizeof c->listen[i]));
		CHECK(sock_parse(c->listen[i], DEFAULT_PORT, &ss, &len) == 0);
	}
	CHECK(clean_str(c->download_dir, sizeof c->download_dir));
	CHECK(c->download_dir[0] == '\0' || c->download_dir[0] == '/');
	CHECK(clean_str(c->discovery_iface, sizeof c->discovery_iface));
	CHECK(c->discovery == 0 || c->discovery == 1);
	CHECK(c->nat == 0 || c->nat == 1);
	CHECK(c->bell >= CONFIG_BELL_OFF && c->bell <= CONFIG_BELL_ON);   /* off, messages, all, or on (an old file's word) */
	CHECK(c->colors == COLORS_AUTO || c->colors == COLORS_ON || c->colors == COLORS_OFF);
	CHECK(c->history_lines <= CONFIG_HISTORY_MAX);
	CHECK(c->auto_accept == CONFIG_ACCEPT_OFF || c->auto_accept == CONFIG_ACCEPT_VERIFIED);
	CHECK(c->keepalive >= 1 && c->keepalive <= 3600);
	CHECK(c->limit_rate == 0 || (c->limit_rate >= 1000 && c->limit_rate <= 1000000000000ULL));
	/* the file never reaches the command-line-only settings */
	CHECK(c->home == NULL && c->log == NULL && c->dns_name == NULL);
	CHECK(c->discovery_refresh == 0 && c->nat_lease == 0 && c->handshake_timeout == 0);
	CHECK(c->cipher == 0 && c->debug == 0 && c->headless == 0 && c->print_config == 0);
}

/* Whether two configs hold the same settings. */
static int
same(const struct config *a, const struct config *b)
{
	int i;

	if (a->set != b->set || a->nlisten != b->nlisten || strcmp(a->nick, b->nick) != 0 ||
	    strcmp(a->download_dir, b->download_dir) != 0 ||
	    strcmp(a->discovery_iface, b->discovery_iface) != 0 ||
	    a->discovery != b->discovery || a->nat != b->nat || a->bell != b->bell ||
	    a->colors != b->colors || a->history_lines != b->history_lines ||
	    a->auto_accept != b->auto_accept || a->keepalive != b->keepalive ||
	    a->limit_rate != b->limit_rate)
		return 0;
	for (i = 0; i < a->nlisten; i++)
		if (strcmp(a->listen[i], b->listen[i]) != 0)
			return 0;
	return 1;
}

/* cfg written out, with or without the documentation; caller frees. */
static char *
written(const struct config *cfg, int docs, size_t *len)
{
	char *out = NULL;
	FILE *f = open_memstream(&out, len);

	CHECK(f != NULL);
	CHECK(config_write(f, cfg, docs) == 0);
	CHECK(fclose(f) == 0);
	return out;
}

/*
 * Parse the input as a file (and as one long line): no crash, every value
 * in range afterwards, and whatever was understood written out reads back
 * to the same settings without a single problem.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg, back;
	char *copy, *text, *text2;
	size_t len, len2;
	int docs, problems = 0, again;

	if (size > 65536)
		return 0;
	/* an exact-size copy, so that ASan catches any read past the end */
	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data, size);

	config_defaults(&cfg);
	config_parse_line(&cfg, "fuzz", 1, copy, size, on_warn, &problems);
	config_drop_bad(&cfg);
	check_valid(&cfg);

	config_defaults(&cfg);
	problems = 0;
	CHECK(config_parse(&cfg, "fuzz", copy, size, on_warn, &problems) >= 0);
	check_valid(&cfg);
	free(copy);

	for (docs = 0; docs <= 1; docs++) {
		text = written(&cfg, docs, &len);
		config_defaults(&back);
		again = 0;
		CHECK(config_parse(&back, "again", text, len, on_warn, &again) == 0 && again == 0);
		CHECK(same(&cfg, &back));
		text2 = written(&back, docs, &len2);
		CHECK(len == len2 && memcmp(text, text2, len) == 0);
		free(text);
		free(text2);
	}
	return 0;
}
