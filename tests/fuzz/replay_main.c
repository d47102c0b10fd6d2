/*
 * replay_main.c -- a main() for a fuzz target when libFuzzer is not there:
 * feeds each file named on the command line to LLVMFuzzerTestOneInput once
 * (as an exactly sized heap copy, like libFuzzer).  Linked with each
 * tests/fuzz/fuzz_<name>.c by `make check` into tests/fuzz/replay_<name>,
 * so the regression files and the seed corpus run in the normal suite and,
 * in the sanitizer build, under ASan and UBSan.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return -1;
	}
	size_t cap = 4096, len = 0, got;
	uint8_t *buf = malloc(cap);
	while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
		len += got;
		if (len == cap)
			buf = realloc(buf, cap *= 2);
	}
	int err = ferror(f);
	fclose(f);
	if (!buf || err) {
		fprintf(stderr, "%s: cannot read\n", path);
		free(buf);
		return -1;
	}
	/* exactly len bytes, as libFuzzer hands them over */
	uint8_t *exact = malloc(len ? len : 1);
	if (len)
		memcpy(exact, buf, len);
	free(buf);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	return 0;
}

int main(int argc, char **argv)
{
	int bad = 0;
	for (int i = 1; i < argc; i++)
		if (replay(argv[i]) < 0)
			bad = 1;
	return bad;
}
