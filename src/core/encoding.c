/*
 * encoding.c -- repair of double-encoded UTF-8 ("mojibake"): text whose UTF-8
 * bytes were read as Windows-1252 and saved again as UTF-8, so that "→"
 * arrives as "â†’" and "✅" as "âœ…".  runbook_parse() calls
 * rb_repair_mojibake() on every line that holds suspicious characters; the
 * repair works line by line and is lenient, because Windows-1252 has no
 * character for 0x81 0x8D 0x8F 0x90 0x9D and converters either drop those
 * bytes, replace them with U+FFFD, map them to U+0081.. or pass them through
 * raw.  A sequence is only rewritten when the recovered bytes are valid
 * UTF-8; correct text (café, →, ✅) is never touched.
 */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "pgcutover/runbook.h"

/* Unicode code points of Windows-1252 bytes 0x80..0x9F; 0 = no character. */
static const unsigned short cp1252_high[32] = {
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
	0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
};

/* The bytes Windows-1252 cannot represent: the ones lost on the way. */
static const unsigned char lost_bytes[] = {0x81, 0x8D, 0x8F, 0x90, 0x9D};
#define N_LOST_BYTES (sizeof lost_bytes / sizeof lost_bytes[0])

#define UNIT_UNMAPPABLE (-1)  /* a character Windows-1252 cannot produce */
#define UNIT_LOST (-2)        /* U+FFFD standing for a lost byte */
#define REPLACEMENT_CHAR 0xFFFD
#define EMOJI_VARIATION 0xFE0F    /* "⚠️" = U+26A0 U+FE0F; its last byte is 0x8F */
#define ZERO_WIDTH_JOINER 0x200D  /* joins emoji; its last byte is 0x8D */
#define RIGHT_DOUBLE_QUOTE 0x201D /* its last byte is 0x9D */
#define MAX_CONT 3            /* continuation bytes of a 4-byte sequence */
/* A guessed byte must give a symbol or emoji (what loses bytes in practice);
 * a guess that gives a CJK character from "é™x" in good text is refused. */
#define MIN_GUESS_SCORE 3
/* The repair keeps a small record per character; a hostile 60 MB line must
 * not cost gigabytes, and no real runbook line comes near this. */
#define REPAIR_MAX_LINE (1024 * 1024)

typedef struct unit {
	size_t off, len;   /* where the character is in the input */
	int byte;          /* the Windows-1252 byte it came from, or UNIT_* */
	bool raw;          /* an invalid UTF-8 byte passed through as is */
} unit;

/* Maps a code point back to the Windows-1252 byte that produced it. */
static int cp1252_byte(unsigned cp)
{
	if (cp <= 0xFF)
		return (int)cp;   /* ASCII, Latin-1, and C1 controls mapped directly */
	if (cp == REPLACEMENT_CHAR)
		return UNIT_LOST;
	for (int i = 0; i < 32; i++)
		if (cp1252_high[i] == cp)
			return 0x80 + i;
	return UNIT_UNMAPPABLE;
}

static bool is_lost_byte(unsigned b)
{
	for (size_t i = 0; i < N_LOST_BYTES; i++)
		if (lost_bytes[i] == b)
			return true;
	return false;
}

static bool is_cont(int b)
{
	return b == UNIT_LOST || (b >= 0x80 && b <= 0xBF);
}

/* How many continuation bytes a lead byte needs, 0 if it is no lead. */
static size_t lead_len(int b)
{
	if (b >= 0xC2 && b <= 0xDF) return 1;
	if (b >= 0xE0 && b <= 0xEF) return 2;
	if (b >= 0xF0 && b <= 0xF4) return 3;
	return 0;
}

/* How plausible a recovered character is: emoji and symbols are what
 * runbooks carry, so a guessed byte that yields one is preferred. */
static int plausibility(unsigned cp, int next_byte)
{
	/* "â€" + a lost byte: a closing quote in prose, a joiner between emoji */
	if (cp == RIGHT_DOUBLE_QUOTE)
		return next_byte >= 0xF0 ? 1 : 5;
	if (cp == ZERO_WIDTH_JOINER)
		return next_byte >= 0xF0 ? 5 : 1;
	if ((cp >= 0x1F300 && cp <= 0x1FAFF) || (cp >= 0x2700 && cp <= 0x27BF) || cp == EMOJI_VARIATION)
		return 4;
	if ((cp >= 0x2190 && cp <= 0x21FF) || (cp >= 0x2300 && cp <= 0x23FF) ||
	    (cp >= 0x2600 && cp <= 0x26FF) || (cp >= 0x2B00 && cp <= 0x2BFF))
		return 3;
	if (cp >= 0x2000 && cp <= 0x206F)
		return 2;
	return 1;
}

static bool seq_valid(const unsigned char *seq, size_t n, unsigned *cp)
{
	return pgc_utf8_decode(seq, n, cp) == n;
}

/* Tries to rebuild one UTF-8 sequence from units[i..]: lead at i, then
 * continuation units.  Writes the bytes to out (4 bytes) and returns how
 * many units were used, or 0. */
static size_t rebuild(const unit *u, size_t n, size_t i, unsigned char out[4], size_t *outlen)
{
	size_t k = lead_len(u[i].byte);
	if (k == 0)
		return 0;
	size_t present = 0, lost_at = MAX_CONT + 1;
	int lost_count = 0;
	while (present < k && i + 1 + present < n && is_cont(u[i + 1 + present].byte)) {
		if (u[i + 1 + present].byte == UNIT_LOST) {
			lost_at = present;
			lost_count++;
		}
		present++;
	}
	unsigned char seq[4];
	unsigned cp;
	seq[0] = (unsigned char)u[i].byte;
	if (present == k && lost_count == 0) {
		for (size_t j = 0; j < k; j++)
			seq[j + 1] = (unsigned char)u[i + 1 + j].byte;
		if (!seq_valid(seq, k + 1, &cp))
			return 0;
		memcpy(out, seq, k + 1);
		*outlen = k + 1;
		return k + 1;
	}
	/* Lenient: one byte is missing (dropped, or a U+FFFD in its place).
	 * Only for 3- and 4-byte sequences with at least one real continuation
	 * left, so a stray "Ã" in good text is never turned into something. */
	bool one_lost = present == k && lost_count == 1;
	bool one_missing = lost_count == 0 && k >= 2 && present == k - 1;
	if (!one_lost && !one_missing)
		return 0;
	int best_score = 0;
	unsigned char best[4];
	size_t after = i + 1 + present;
	int next_byte = after < n ? u[after].byte : -1;
	size_t first_pos = one_lost ? lost_at : 0, last_pos = one_lost ? lost_at : k - 1;
	for (size_t pos = first_pos; pos <= last_pos; pos++) {
		for (size_t b = 0; b < N_LOST_BYTES; b++) {
			size_t src = i + 1;
			for (size_t j = 0; j < k; j++) {
				if (j == pos) {
					seq[j + 1] = lost_bytes[b];
					if (one_lost)
						src++;
				} else {
					seq[j + 1] = (unsigned char)u[src++].byte;
				}
			}
			if (!seq_valid(seq, k + 1, &cp))
				continue;
			int score = plausibility(cp, next_byte);
			if (score > best_score) {
				best_score = score;
				memcpy(best, seq, k + 1);
			}
		}
	}
	if (best_score < MIN_GUESS_SCORE)
		return 0;
	memcpy(out, best, k + 1);
	*outlen = k + 1;
	return 1 + present;
}

/* Cheap test first: without a lead character (U+00C2..U+00F4 as UTF-8, i.e.
 * C3 82..C3 B4) or a raw lost byte there is nothing double-encoded here. */
static bool may_be_mojibake(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] < 0x80)
			continue;
		if (s[i] == 0xC3 && i + 1 < len && s[i + 1] >= 0x82 && s[i + 1] <= 0xB4)
			return true;
		if (is_lost_byte(s[i]))
			return true;
	}
	return false;
}

char *rb_repair_mojibake(const char *line, size_t len, bool *changed)
{
	const unsigned char *s = (const unsigned char *)line;
	if (changed)
		*changed = false;
	if (len > REPAIR_MAX_LINE || !may_be_mojibake(s, len))
		return NULL;
	unit *u = xmalloc((len + 1) * sizeof *u);
	size_t n = 0;
	for (size_t off = 0; off < len;) {
		unsigned cp;
		size_t l = pgc_utf8_decode(s + off, len - off, &cp);
		if (l == 0) {
			if (!is_lost_byte(s[off])) {
				free(u);
				return NULL;   /* invalid UTF-8 that is no mojibake */
			}
			u[n++] = (unit){off, 1, s[off], true};
			off++;
			continue;
		}
		u[n++] = (unit){off, l, cp1252_byte(cp), false};
		off += l;
	}
	strbuf out;
	sb_init(&out);
	int repaired = 0;
	for (size_t i = 0; i < n;) {
		unsigned char seq[4];
		size_t seqlen = 0;
		size_t used = rebuild(u, n, i, seq, &seqlen);
		if (used > 0) {
			sb_add(&out, (const char *)seq, seqlen);
			repaired++;
			i += used;
			continue;
		}
		if (u[i].raw) {
			/* a raw byte outside any sequence: the line stays invalid */
			free(u);
			sb_free(&out);
			return NULL;
		}
		sb_add(&out, line + u[i].off, u[i].len);
		i++;
	}
	free(u);
	if (repaired == 0) {
		sb_free(&out);
		return NULL;
	}
	if (changed)
		*changed = true;
	return sb_steal(&out);
}
