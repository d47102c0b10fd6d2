/*
 * envfile.h -- the application's .env file, where the cutover flags live
 * (USE_LEGACY_SUPABASE=true ...).  Reads KEY=VALUE lines (comments, blank
 * lines, quotes, multi-line quoted values, `export KEY=...`) as dotenv and
 * the shell do, and changes one value atomically, keeping every other byte,
 * the order, the comments and the file mode, with a private timestamped
 * backup beside it (the newest few kept).  A file neither could read (a NUL,
 * invalid UTF-8, a quote never closed) is refused with file:line:col, and so
 * is a set whose line they would read differently.  A stamp (mtime, size,
 * sha256) lets callers notice that somebody edited the file behind their
 * back.  Used by action.c (flag edits in command blocks), `pgcutover
 * flags`/`flag set` and the console's flags panel.  Never prints.
 */
#ifndef PGCUTOVER_ENVFILE_H
#define PGCUTOVER_ENVFILE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "pgcutover/util.h"

/* Larger files are refused: a .env is a few KiB. */
#define ENVFILE_MAX_BYTES (4u * 1024 * 1024)
/* Backups are NAME.bak-YYYYmmddTHHMMSS[-N] (UTC), mode 0600 whatever the
 * file's mode (they hold the same secrets and nobody else needs them). */
#define ENVFILE_BACKUP_INFIX ".bak-"
#define ENVFILE_BACKUP_MODE 0600
/* How many backups a set keeps by default (config "env_backups"). */
#define ENVFILE_DEFAULT_KEEP_BACKUPS 10
#define ENVFILE_MAX_KEEP_BACKUPS 1000
/* Temporary files beside NAME are .NAME.pgcutover-XXXXXX, and those of
 * its backups .NAME.bak-STAMP.pgcutover-XXXXXX (pgc_write_file_atomic). */
#define ENVFILE_TEMP_INFIX PGC_WRITE_TEMP_INFIX

/* What we last saw of a file. */
typedef struct envfile_stamp {
	bool exists;
	int64_t mtime_ns;
	int64_t size;
	char sha256[65];
} envfile_stamp;

typedef struct envfile_entry {
	char *key;
	char *value;      /* as dotenv reads it: unquoted, escapes resolved */
	int line;         /* 1-based */
	int end_line;     /* last line: a quoted value may span lines */
	char quote;       /* '"', '\'' or 0 */
	bool exported;    /* "export KEY=..." */
	/* Offsets into envfile.text: the record (its lines, terminator
	 * included) and the value's raw bytes, quotes included. */
	size_t rec_start, rec_end, val_start, val_end;
	/* Why dotenv and the shell read this line differently (NULL when they
	 * agree), and where: such a line is never rewritten. */
	const char *irregular;
	int irr_line, irr_col;
} envfile_entry;

typedef struct envfile {
	char *path;
	char *text;       /* bytes as read ("" when the file is missing) */
	size_t len;
	mode_t mode;      /* permission bits; ENVFILE_NEW_MODE when missing */
	envfile_stamp stamp;
	envfile_entry *entries; size_t n_entries;
} envfile;

/* Mode of a .env created by a set on a missing file: it holds secrets. */
#define ENVFILE_NEW_MODE 0600

/* Reads path.  A missing file is not an error: an empty envfile with
 * stamp.exists false.  A file that is not a readable .env (a NUL byte,
 * invalid UTF-8, a byte order mark, a CR not before LF, a quote never
 * closed) fails with PGC_EXIT_DATAERR and path:line:col. */
int envfile_load(const char *path, envfile **out, pgc_err *e);
/* Reads path without refusing anything, for callers that must not know
 * less because the file is damaged (the masker looks for secret values in
 * it).  Values stop at a NUL; a quote never closed runs to its line end.
 * NULL when the file is missing or unreadable. */
envfile *envfile_load_lenient(const char *path);
/* The same on text (exposed for fuzzing); never NULL. */
envfile *envfile_parse_lenient(const char *path, const char *text, size_t len);
void envfile_free(envfile *ef);
/* Parses text without touching the disk (exposed for tests and fuzzing);
 * fails as envfile_load does. */
int envfile_parse(const char *path, const char *text, size_t len, envfile **out, pgc_err *e);

/* Value of the last KEY= line, or NULL. */
const char *envfile_get(const envfile *ef, const char *key);

/* Stamp of the file as it is now (exists false when missing). */
int envfile_stat(const char *path, envfile_stamp *out, pgc_err *e);
bool envfile_stamp_equal(const envfile_stamp *a, const envfile_stamp *b);

typedef struct envfile_set_result {
	char *old_value;     /* NULL when the key was absent */
	char *new_value;
	char *backup_path;   /* NULL when there was no file to back up */
	bool changed;        /* false when the value already was new_value */
	envfile_stamp before, after;
} envfile_set_result;

/* Sets key to value in path: every KEY= line is rewritten in place (quote
 * style and `export` kept where the value allows); a missing key is
 * appended.  Atomic: a temporary file in the same directory with the same
 * mode, fsync, rename, fsync of the directory; the previous bytes are kept
 * in a 0600 backup beside the file, and only the newest keep_backups
 * backups are kept (0: ENVFILE_DEFAULT_KEEP_BACKUPS).  When expect is
 * non-NULL and the file no longer matches it, nothing is written and -1 is
 * returned with e->code PGC_EXIT_TEMPFAIL ("changed behind our back").
 * A file envfile_load refuses, a KEY= line that is irregular, or a value
 * that cannot be written so that dotenv and the shell read it alike fails
 * with PGC_EXIT_DATAERR before anything is written.  Setting an unchanged
 * value writes nothing. */
int envfile_set(const char *path, const char *key, const char *value,
                const envfile_stamp *expect, unsigned keep_backups,
                envfile_set_result *res, pgc_err *e);
/* envfile_set() of n keys in one write: the file goes from all the old
 * values to all the new ones at once (one temporary file, one rename, one
 * backup), never holding some of them.  res is n long: res[k] for keys[k]
 * (old and new value, the one backup's path, the file's stamps before and
 * after the write; changed when keys[k]'s value differs from before).  A
 * key named twice ends with its last value.  Fails as envfile_set() does,
 * writing nothing; res is then empty. */
int envfile_set_many(const char *path, const char *const *keys, const char *const *values, size_t n,
                     const envfile_stamp *expect, unsigned keep_backups,
                     envfile_set_result *res, pgc_err *e);
void envfile_set_result_free(envfile_set_result *r);

/* The text of ef with key set to value (no I/O; exposed for tests and
 * fuzzing): *out (length *out_len) is new; *old_out (may be NULL) gets the
 * previous value or NULL.  Fails as envfile_set does, writing nothing. */
int envfile_render_set(const envfile *ef, const char *key, const char *value,
                       char **out, size_t *out_len, char **old_out, pgc_err *e);

/* True for names such as DB_PASSWORD, API_KEY, AUTH_TOKEN, CLIENT_SECRET. */
bool envfile_name_is_secret(const char *name);
/* True for a valid .env / shell variable name. */
bool envfile_valid_name(const char *name);

#endif
