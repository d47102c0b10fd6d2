/*
 * fuzz_envfile.c -- libFuzzer target for the .env reader and writer
 * (envfile.c), with a round-trip oracle.
 *
 * Input: byte 0 picks the key (an existing one or a new name), byte 1 the
 * length of the value that follows, the rest is the file.  When the file is
 * accepted and the set succeeds, the new text is read again and must hold
 * the value exactly, on regular lines only; every other record must be
 * unchanged byte for byte (a file without a final newline gains one before
 * an appended line); setting the same value again must change nothing.
 * The lenient reading (the masker's) must take any input and agree with
 * the strict one on a file that one accepts.  Any violation abort()s.
 * Built by `make fuzz`; by hand, from the source tree after a build:
 *   clang -fsanitize=fuzzer,address,undefined -Iinclude -I_build \
 *     tests/fuzz/fuzz_envfile.c src/core/[a-z]*.c $(pkg-config --cflags --libs ...)
 */
#include "config.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pgcutover/envfile.h"

#define FUZZ_PATH "fuzz.env"

static const char *const new_keys[] = {"FLAG", "NEW_KEY", "A", "export", "X_1"};

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_envfile: oracle violated: %s\n", what);
	abort();
}

/* The text outside every record of key, in order. */
static char *others(const envfile *ef, const char *key, size_t *n)
{
	strbuf b;
	sb_init(&b);
	size_t pos = 0;
	for (size_t i = 0; i < ef->n_entries; i++) {
		const envfile_entry *en = &ef->entries[i];
		if (strcmp(en->key, key) != 0)
			continue;
		sb_add(&b, ef->text + pos, en->rec_start - pos);
		pos = en->rec_end;
	}
	sb_add(&b, ef->text + pos, ef->len - pos);
	*n = b.len;
	return sb_steal(&b);
}

static size_t count_key(const envfile *ef, const char *key)
{
	size_t n = 0;
	for (size_t i = 0; i < ef->n_entries; i++)
		n += strcmp(ef->entries[i].key, key) == 0;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	uint8_t pick = data[0];
	size_t vlen = data[1];
	data += 2;
	size -= 2;
	if (vlen > size)
		vlen = size;
	char *value = xstrndup((const char *)data, vlen);   /* stops at a NUL */
	const char *text = (const char *)data + vlen;
	size_t len = size - vlen;

	/* The masker's reading takes anything; it must not crash or lose the
	 * entries the strict reading has. */
	envfile *lenient = envfile_parse_lenient(FUZZ_PATH, text, len);
	envfile *ef = NULL;
	pgc_err e = {0};
	int strict = envfile_parse(FUZZ_PATH, text, len, &ef, &e);
	if (!lenient || (strict == 0 && lenient->n_entries != ef->n_entries))
		fail("the lenient reading lost entries of a file the strict one reads");
	envfile_free(lenient);
	if (strict < 0) {
		if (strncmp(e.msg, FUZZ_PATH ":", strlen(FUZZ_PATH) + 1) != 0 || e.code != PGC_EXIT_DATAERR)
			fail("a refusal that does not name file:line:col");
		free(value);
		return 0;
	}
	char *key = (pick & 0x80) && ef->n_entries ? xstrdup(ef->entries[(pick & 0x7f) % ef->n_entries].key)
	                                            : xstrdup(new_keys[pick % (sizeof new_keys / sizeof *new_keys)]);
	char *out = NULL, *old = NULL;
	size_t out_len = 0;
	if (!envfile_valid_name(key) || envfile_render_set(ef, key, value, &out, &out_len, &old, &e) < 0) {
		envfile_free(ef);
		free(key);
		free(value);
		return 0;
	}
	const char *was = envfile_get(ef, key);
	if ((was == NULL) != (old == NULL) || (was && strcmp(was, old) != 0))
		fail("old value is not what was read");

	envfile *ef2 = NULL;
	if (envfile_parse(FUZZ_PATH, out, out_len, &ef2, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		fail("the written text is refused when read again");
	}
	const char *now = envfile_get(ef2, key);
	if (!now || strcmp(now, value) != 0)
		fail("the value set does not read back exactly");
	for (size_t i = 0; i < ef2->n_entries; i++) {
		const envfile_entry *en = &ef2->entries[i];
		if (strcmp(en->key, key) == 0 && (en->irregular || strcmp(en->value, value) != 0))
			fail("a rewritten line is irregular or holds another value");
	}
	size_t n1 = count_key(ef, key), n2 = count_key(ef2, key);
	if (n2 != (n1 ? n1 : 1))
		fail("the number of lines for the key changed");
	size_t o1n, o2n;
	char *o1 = others(ef, key, &o1n), *o2 = others(ef2, key, &o2n);
	bool same = o1n == o2n && memcmp(o1, o2, o1n) == 0;
	if (!same && !n1 && o1n > 0 && o1[o1n - 1] != '\n') {
		/* An appended line first ends the last one. */
		same = (o2n == o1n + 1 && memcmp(o1, o2, o1n) == 0 && o2[o1n] == '\n') ||
		       (o2n == o1n + 2 && memcmp(o1, o2, o1n) == 0 && memcmp(o2 + o1n, "\r\n", 2) == 0);
	}
	if (!same)
		fail("a line other than the key's changed");
	if (ef->n_entries - n1 != ef2->n_entries - n2)
		fail("another entry appeared or vanished");
	for (size_t i = 0, j = 0; i < ef->n_entries; i++) {
		if (strcmp(ef->entries[i].key, key) == 0)
			continue;
		while (strcmp(ef2->entries[j].key, key) == 0)
			j++;
		if (strcmp(ef->entries[i].key, ef2->entries[j].key) != 0 ||
		    strcmp(ef->entries[i].value, ef2->entries[j].value) != 0 ||
		    (ef->entries[i].irregular == NULL) != (ef2->entries[j].irregular == NULL))
			fail("another entry reads differently");
		j++;
	}

	/* Setting the value it now has changes nothing. */
	char *again = NULL, *old2 = NULL;
	size_t again_len = 0;
	if (envfile_render_set(ef2, key, value, &again, &again_len, &old2, &e) < 0)
		fail("setting the same value again is refused");
	if (again_len != out_len || memcmp(again, out, out_len) != 0)
		fail("setting the same value again changed the text");

	free(again);
	free(old2);
	free(o1);
	free(o2);
	envfile_free(ef2);
	free(out);
	free(old);
	envfile_free(ef);
	free(key);
	free(value);
	return 0;
}
