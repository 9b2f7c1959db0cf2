/* mem.c - checked array allocation: growth that refuses size overflow. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "mem.h"

/* realloc of n elements of size bytes, refusing a product that overflows. */
void *
mem_reallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, n * size == 0 ? 1 : n * size);
}

/* Grow an array by doubling to hold at least need elements (see mem.h). */
void *
mem_grow(void *p, size_t *cap, size_t need, size_t size, size_t first, size_t max)
{
	size_t lim = size == 0 ? SIZE_MAX : SIZE_MAX / size, na;
	void *np;

	if (need == 0)
		need = 1;
	if (need <= *cap && p != NULL)
		return p;
	if (max == 0 || max > lim)
		max = lim;
	if (need > max) {
		errno = need > lim ? ENOMEM : E2BIG;
		return NULL;
	}
	na = *cap > first ? *cap : (first ? first : 1);
	while (na < need)
		na = na > max / 2 ? max : na * 2;
	if (na > max)
		na = max;
	if ((np = mem_reallocarray(p, na, size)) == NULL)
		return NULL;
	*cap = na;
	return np;
}
