/* json.h - a small JSON Lines writer for the headless front-end. */
#ifndef CONFAB_JSON_H
#define CONFAB_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/*
 * Build one JSON object at a time into a buf:
 *   json_begin(&j, b); json_str(&j, "event", "ready"); json_int(&j, "n", 3);
 *   json_arr_begin(&j, "listen"); json_arr_str(&j, "1.2.3.4:5"); json_arr_end(&j);
 *   json_end(&j);   -> {"event":"ready","n":3,"listen":["1.2.3.4:5"]}\n
 * Strings are escaped: quote, backslash and every control character below 0x20
 * and DEL (\u00XX, or \n \t etc.), and also C1 controls and U+2028/U+2029;
 * invalid UTF-8 is replaced by U+FFFD, so the output is always valid JSON in
 * valid UTF-8.  A NULL string value is written as null.  Errors are sticky
 * (checked at json_end, which returns 0 or -1).
 *
 * Inside an array, pass key NULL to the keyed calls (json_str(j, NULL, "x"),
 * json_obj_begin(j, NULL), ...) to add elements; inside an object the key is
 * required.  A missing or unwanted key, nesting deeper than JSON_MAX_DEPTH,
 * an unbalanced end or a full buffer is an error; json_end then removes the
 * partial object from the buffer again, so b only ever holds whole lines.
 * (Nothing may be consumed from b between json_begin and json_end.)
 */
#define JSON_MAX_DEPTH 8   /* open objects/arrays, the top-level object included */

struct json {
	struct buf *b;
	size_t      start;                  /* unread bytes in b before json_begin */
	int         depth;                  /* levels open; 0 before begin/after end */
	char        kind[JSON_MAX_DEPTH];   /* '{' or '[' for each open level */
	char        first[JSON_MAX_DEPTH];  /* no member written yet at that level */
	int         err;
};

void json_begin(struct json *j, struct buf *b);
void json_str(struct json *j, const char *key, const char *val);
void json_strn(struct json *j, const char *key, const char *val, size_t n);
void json_int(struct json *j, const char *key, int64_t val);
void json_uint(struct json *j, const char *key, uint64_t val);
void json_bool(struct json *j, const char *key, int val);
void json_null(struct json *j, const char *key);
void json_arr_begin(struct json *j, const char *key);
void json_arr_str(struct json *j, const char *val);
void json_arr_end(struct json *j);
void json_obj_begin(struct json *j, const char *key);   /* nested object member */
void json_obj_end(struct json *j);
/* Close the top-level object and append '\n'. Returns 0 or -1. */
int  json_end(struct json *j);

/* Append s (n bytes) as a quoted, escaped JSON string. */
int  json_quote(struct buf *b, const char *s, size_t n);

#endif
