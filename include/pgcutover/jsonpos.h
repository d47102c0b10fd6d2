/*
 * jsonpos.h -- positions in raw JSON text.  cJSON builds a tree but forgets
 * where each value came from and reports syntax errors as a bare offset, so
 * config.c uses this scanner to validate the text strictly (RFC 8259, with
 * a message naming the problem) and to find the line:col of a member or
 * element given its path of indices.  Lines and columns are 1-based;
 * columns count UTF-8 characters, a tab counts as one.
 */
#ifndef PGCUTOVER_JSONPOS_H
#define PGCUTOVER_JSONPOS_H

#include <stdbool.h>
#include <stddef.h>

/* Deeper nesting than this is refused (cJSON's own limit is 1000). */
#define JSONPOS_MAX_DEPTH 256
#define JSONPOS_MSG_MAX 160

typedef struct jsonpos {
	size_t offset;
	int line, col;
} jsonpos;

/* Line and column of a byte offset in text. */
jsonpos jsonpos_at(const char *text, size_t len, size_t offset);

/* Checks that text holds exactly one JSON value and nothing else but white
 * space.  Returns 0, or -1 with *where and msg (a sentence without position)
 * describing the first error. */
int jsonpos_validate(const char *text, size_t len, jsonpos *where, char *msg, size_t msgsz);

/* Finds a value by its path: path[i] is the index of the member (in an
 * object, in text order) or element (in an array) at depth i.  With want_key
 * and a last step into an object, gives the position of the member's key
 * instead of its value.  depth 0 is the root value.  Returns 0, or -1 when
 * the path does not exist in text (or text is not valid JSON). */
int jsonpos_find(const char *text, size_t len, const int *path, size_t depth,
                 bool want_key, jsonpos *out);

#endif
