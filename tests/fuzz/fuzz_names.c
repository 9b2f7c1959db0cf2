/* fuzz_names.c - libFuzzer target for peer-supplied file names (net/xfs.c). */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Any broken invariant is a crash for libFuzzer to report. */
#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

#define LIST_MAX 64   /* names in one fuzzed offer list */

/*
 * Decode one UTF-8 character, written independently of xfs.c: the length
 * from the lead byte, then range checks on the decoded value.  Returns the
 * length, or 0 if invalid.
 */
static size_t
utf8_len(const uint8_t *p, size_t n, uint32_t *cp)
{
	uint32_t v, min;
	size_t len, i;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2;
		v = p[0] & 0x1f;
		min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3;
		v = p[0] & 0x0f;
		min = 0x800;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4;
		v = p[0] & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

/* The rules of xfs.h, written out plainly as a second opinion. */
static int
name_ok(const uint8_t *p, size_t n)
{
	size_t i, l, start = 0, comps = 0;
	uint32_t cp;

	if (n == 0 || n > XFS_PATH_MAX || p[0] == '/')
		return 0;
	for (i = 0; i < n; i += l) {
		if ((l = utf8_len(p + i, n - i, &cp)) == 0)
			return 0;
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == '\\')
			return 0;
	}
	for (i = 0; i <= n; i++) {
		if (i < n && p[i] != '/')
			continue;
		l = i - start;
		if (l == 0 || l > XFS_NAME_MAX)
			return 0;
		if ((l == 1 && p[start] == '.') || (l == 2 && p[start] == '.' && p[start + 1] == '.'))
			return 0;
		comps++;
		start = i + 1;
	}
	return comps <= XFS_DEPTH_MAX;
}

/* Abort unless an accepted name has none of the forbidden shapes. */
static void
check_accepted(const uint8_t *p, size_t n)
{
	size_t i, l, start = 0;
	uint32_t cp;

	CHECK(n > 0 && n <= XFS_PATH_MAX && p[0] != '/');
	for (i = 0; i < n; i++)
		CHECK(p[i] >= 0x20 && p[i] != 0x7f && p[i] != '\\');
	for (i = 0; i < n; i += l) {
		l = utf8_len(p + i, n - i, &cp);
		CHECK(l > 0);
		CHECK(cp < 0x80 || cp > 0x9f);
	}
	for (i = 0; i <= n; i++) {
		if (i < n && p[i] != '/')
			continue;
		l = i - start;
		CHECK(l > 0 && l <= XFS_NAME_MAX);
		CHECK(!(l == 1 && p[start] == '.'));
		CHECK(!(l == 2 && p[start] == '.' && p[start + 1] == '.'));
		start = i + 1;
	}
}

/* The alternative names commit would use must be valid, distinct components. */
static void
check_conflict_names(const char *name, size_t n, unsigned k)
{
	char out[XFS_NAME_MAX + 1], sfx[16];
	int isdir;

	for (isdir = 0; isdir < 2; isdir++) {
		CHECK(xfs_conflict_name(name, isdir, k, out, sizeof out) == 0);
		CHECK(strlen(out) <= XFS_NAME_MAX);
		CHECK(xfs_path_ok(out, strlen(out), NULL));
		CHECK(strchr(out, '/') == NULL);
		CHECK(strcmp(out, name) != 0);
		snprintf(sfx, sizeof sfx, " (%u)", k);
		CHECK(strstr(out, sfx) != NULL);
		/* an unshortened name keeps every byte of the original around the suffix */
		if (n + strlen(sfx) <= XFS_NAME_MAX)
			CHECK(strlen(out) == n + strlen(sfx));
	}
}

/*
 * Treat the input as NUL-separated entries (first byte: type bit) for an offer
 * list; xfs_list_check must agree with a brute-force search for duplicates and
 * for names without a directory entry for their parent listed before them
 * (which covers names below files).
 */
static void
check_list(const uint8_t *data, size_t size)
{
	struct xfs_list l;
	const uint8_t *seg = data, *end = data + size, *z;
	size_t i, j, li;
	int conflict = 0, added;
	char err[300];

	memset(&l, 0, sizeof l);
	while (seg < end && l.n < LIST_MAX) {
		z = memchr(seg, '\0', (size_t)(end - seg));
		if (z == NULL)
			z = end;
		if (z > seg) {
			enum xfs_type t = (seg[0] & 1) ? XFS_DIR : XFS_FILE;

			added = xfs_list_add(&l, (const char *)seg + 1, (size_t)(z - seg) - 1, t, 0, 0, 0644) == 0;
			CHECK(added == name_ok(seg + 1, (size_t)(z - seg) - 1));
		}
		seg = z + 1;
	}
	for (i = 0; i < l.n; i++) {
		const char *slash = strrchr(l.v[i].rel, '/');
		size_t plen = slash != NULL ? (size_t)(slash - l.v[i].rel) : 0;
		int parent = slash == NULL;

		for (j = 0; j < l.n; j++) {
			if (i == j)
				continue;
			li = strlen(l.v[j].rel);
			if (strcmp(l.v[i].rel, l.v[j].rel) == 0)
				conflict = 1;
			if (j < i && l.v[j].type == XFS_DIR && li == plen &&
			    strncmp(l.v[i].rel, l.v[j].rel, plen) == 0)
				parent = 1;
		}
		if (!parent)
			conflict = 1;
	}
	CHECK(xfs_list_check(&l, err, sizeof err) == (conflict ? -1 : 0));
	xfs_list_free(&l);
}

/* libFuzzer entry point. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = "unset";
	char *name;
	int r;

	r = xfs_path_ok((const char *)data, size, &why);
	CHECK(r == name_ok(data, size));
	if (!r) {
		CHECK(why != NULL && *why != '\0');
	} else {
		CHECK(why == NULL);
		CHECK(memchr(data, '\0', size) == NULL);
		check_accepted(data, size);
		if (memchr(data, '/', size) == NULL) {
			name = malloc(size + 1);
			CHECK(name != NULL);
			memcpy(name, data, size);
			name[size] = '\0';
			check_conflict_names(name, size, 1);
			check_conflict_names(name, size, 9999);
			check_conflict_names(name, size, 1 + data[0] % 200);
			free(name);
		}
	}
	check_list(data, size);
	return 0;
}
