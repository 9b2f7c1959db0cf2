/* unit_settings.c - unit tests for app/settings.c: number parsing at its limits, options through the table. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "conffile.h"
#include "tap.h"

/* Parse v; returns the value, or -1 (as uint64_t max) if refused. */
static uint64_t
num(const char *v, int suffix, uint64_t max)
{
	uint64_t out = 12345;

	return config_parse_number(v, suffix, max, &out) == 0 ? out : UINT64_MAX;
}

int
main(void)
{
	struct config cli;
	char err[512];
	static const char *const refused[] = {
		"", "k", "-1", "+1", " 1", "1 ", "1kk", "1t", "0x10", "1.5k", "\xef\xbc\x91",
	};
	size_t i;

	/* digits and suffixes */
	is_int(num("0", 1, 1000), 0, "0");
	is_int(num("0k", 1, 1000), 0, "0k");
	is_int(num("1000", 0, 1000), 1000, "max itself");
	ok(num("1001", 0, 1000) == UINT64_MAX, "max + 1 refused");
	ok(num("1000", 0, 999) == UINT64_MAX, "one digit too many refused");
	ok(num("5", 0, 0) == UINT64_MAX, "a digit above a max of 0 refused");
	ok(num("1000g", 1, 1000000000000ULL) == 1000000000000ULL, "1000g with a max of 1000g");
	ok(num("1001g", 1, 1000000000000ULL) == UINT64_MAX, "1001g refused");
	ok(num("1000000001k", 1, 1000000000000ULL) == UINT64_MAX, "1000000001k refused");
	ok(num("5000g", 1, 1000000000000ULL) == UINT64_MAX, "5000g refused");
	ok(num("99999999999g", 1, UINT64_MAX) == UINT64_MAX, "99999999999g refused even with no max (it does not fit 64 bits)");
	ok(config_parse_number("18446744073709551615", 0, UINT64_MAX, &(uint64_t){ 0 }) == 0,
	    "2^64 - 1 is accepted as a number");
	ok(num("18446744073709551616", 0, UINT64_MAX) == UINT64_MAX, "2^64 refused");
	ok(num("18446744073709551615k", 1, UINT64_MAX) == UINT64_MAX, "(2^64 - 1)k refused");
	ok(num("18446744073k", 1, UINT64_MAX) == 18446744073000ULL, "a k suffix multiplies");
	ok(num("7M", 1, UINT64_MAX) == 7000000ULL && num("7G", 1, UINT64_MAX) == 7000000000ULL, "suffixes in capitals");
	ok(num("7k", 0, UINT64_MAX) == UINT64_MAX, "no suffix where none is allowed");
	for (i = 0; i < sizeof refused / sizeof refused[0]; i++)
		ok(num(refused[i], 1, UINT64_MAX) == UINT64_MAX, "'%s' refused", refused[i]);

	/* options go through the same checks as the file */
	config_defaults(&cli);
	is_int(config_option(&cli, CONFIG_LIMIT_RATE, "99999999999g", err, sizeof err), -1, "--limit-rate 99999999999g refused");
	ok(strstr(err, "--limit-rate: expected") != NULL, "saying what it takes (%s)", err);
	is_int(config_option(&cli, CONFIG_LIMIT_RATE, "1000g", err, sizeof err), 0, "--limit-rate 1000g");
	ok(cli.limit_rate == 1000000000000ULL && (cli.set & CONFIG_BIT(CONFIG_LIMIT_RATE)), "is 10^12 and set");
	is_int(config_option(&cli, CONFIG_LIMIT_RATE, "999", err, sizeof err), -1, "--limit-rate 999 refused (1000 at least)");
	is_int(config_option(&cli, CONFIG_LIMIT_RATE, "0", err, sizeof err), 0, "--limit-rate 0 (no cap)");
	is_int(config_option(&cli, CONFIG_KEEPALIVE, "3601", err, sizeof err), -1, "--keepalive 3601 refused");
	is_int(config_option(&cli, CONFIG_KEEPALIVE, "4294967297", err, sizeof err), -1, "--keepalive 2^32 + 1 refused");
	is_int(config_option(&cli, CONFIG_NAT_LEASE, "1", err, sizeof err), -1, "--nat-lease 1 refused (2 at least)");
	is_int(config_option(&cli, CONFIG_NAT_LEASE, "86400", err, sizeof err), 0, "--nat-lease 86400");
	is_int(config_option(&cli, CONFIG_NAT, NULL, err, sizeof err), 0, "--no-nat");
	ok(cli.nat == 0 && (cli.set & CONFIG_BIT(CONFIG_NAT)), "sets nat off");
	is_int(config_option(&cli, CONFIG_BELL, "off", err, sizeof err), -1, "bell has no option");
	is_int(config_option(&cli, CONFIG_CIPHER, "rot13", err, sizeof err), -1, "--cipher rot13 refused");
	is_int(config_option(&cli, CONFIG_CIPHER, "all", err, sizeof err), -1, "--cipher all refused (only the two names)");
	is_int(config_option(&cli, CONFIG_CIPHER, "", err, sizeof err), -1, "--cipher '' refused");
	is_int(config_option(&cli, CONFIG_CIPHER, "aesgcm", err, sizeof err), 0, "--cipher aesgcm");
	ok(cli.cipher == CONFIG_CIPHER_AESGCM, "picks AES-GCM");
	is_int(config_option(&cli, CONFIG_KEEPALIVE, "", err, sizeof err), -1, "an empty argument refused");
	return tap_done();
}
