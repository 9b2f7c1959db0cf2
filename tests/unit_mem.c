/* unit_mem.c - unit tests for net/mem.c: array growth that refuses overflow. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "tap.h"

/* Growth by doubling from the first size, keeping the contents. */
static void
test_grow(void)
{
	size_t cap = 0, i;
	int *v = NULL, *nv;

	v = mem_grow(v, &cap, 1, sizeof *v, 16, 0);
	ok(v != NULL, "an empty array grows");
	is_int(cap, 16, "to the first size");
	for (i = 0; i < 16; i++)
		v[i] = (int)i;
	nv = mem_grow(v, &cap, 16, sizeof *v, 16, 0);
	ok(nv == v && cap == 16, "an array big enough is left as it is");
	v = mem_grow(v, &cap, 17, sizeof *v, 16, 0);
	is_int(cap, 32, "one more doubles it");
	v = mem_grow(v, &cap, 200, sizeof *v, 16, 0);
	is_int(cap, 256, "a bigger need doubles until it fits");
	for (i = 0; i < 16 && v[i] == (int)i; i++)
		;
	is_int(i, 16, "the contents survive every growth");
	free(v);
}

/* A cap the array never passes. */
static void
test_max(void)
{
	size_t cap = 48;
	char *p = malloc(48), *np;

	memset(p, 'x', 48);
	np = mem_grow(p, &cap, 97, 1, 16, 100);
	ok(np != NULL, "growth under the cap works");
	is_int(cap, 100, "doubling stops at the cap (not 192)");
	p = np;
	errno = 0;
	np = mem_grow(p, &cap, 101, 1, 16, 100);
	ok(np == NULL && errno == E2BIG, "a need over the cap is refused with E2BIG");
	is_int(cap, 100, "and the capacity is unchanged");
	ok(p[0] == 'x' && p[47] == 'x', "and the array is still there");
	free(p);
}

/* Sizes whose product does not fit in a size_t are refused, never wrapped. */
static void
test_overflow(void)
{
	size_t cap = 4;
	uint64_t *p = calloc(4, sizeof *p), *np;

	errno = 0;
	np = mem_reallocarray(p, SIZE_MAX / sizeof *p + 1, sizeof *p);
	ok(np == NULL && errno == ENOMEM, "reallocarray refuses n * size past SIZE_MAX");
	errno = 0;
	np = mem_reallocarray(NULL, SIZE_MAX / 2 + 2, 2);
	ok(np == NULL && errno == ENOMEM, "also when the product wraps to a small number (2)");
	errno = 0;
	np = mem_grow(p, &cap, SIZE_MAX / sizeof *p + 1, sizeof *p, 16, 0);
	ok(np == NULL && errno == ENOMEM, "grow refuses a need whose byte size overflows");
	is_int(cap, 4, "and leaves the capacity alone");
	p[3] = 42;
	np = mem_grow(p, &cap, 5, sizeof *p, 1, 0);
	ok(np != NULL && np[3] == 42, "the array still grows normally afterwards");
	free(np != NULL ? np : p);
}

int
main(void)
{
	test_grow();
	test_max();
	test_overflow();
	return tap_done();
}
