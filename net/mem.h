/* mem.h - checked array allocation: growth that refuses size overflow. */
#ifndef CONFAB_MEM_H
#define CONFAB_MEM_H

#include <stddef.h>

/*
 * realloc(p, n * size), or NULL with errno ENOMEM when n * size overflows
 * (p is then left alone, as realloc leaves it on failure).
 */
void *mem_reallocarray(void *p, size_t n, size_t size);

/*
 * Make the array p of *cap elements of size bytes hold at least need
 * elements: the capacity doubles from first (at least 1) until it is enough,
 * and never passes max (0: as many as fit in a size_t).  Returns the array
 * (p itself when it is big enough) and updates *cap; returns NULL with errno
 * E2BIG when need is over max, ENOMEM when need * size overflows or the
 * allocation fails -- then p and *cap are unchanged and p is still valid.
 */
void *mem_grow(void *p, size_t *cap, size_t need, size_t size, size_t first, size_t max);

#endif
