/*
 * envfile.h -- the application's .env file, where the cutover flags live
 * (USE_LEGACY_SUPABASE=true ...).  Reads KEY=VALUE lines (comments, blank
 * lines, quotes, `export KEY=...`) and changes one value atomically, keeping
 * every other byte, the order, the comments and the file mode, with a
 * timestamped backup beside it.  A stamp (mtime, size, sha256) lets callers
 * notice that somebody edited the file behind their back.  Used by action.c
 * (flag edits in command blocks), `pgcutover flags`/`flag set` and the
 * console's flags panel.  Never prints.
 */
#ifndef PGCUTOVER_ENVFILE_H
#define PGCUTOVER_ENVFILE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "pgcutover/util.h"

/* Larger files are refused: a .env is a few KiB. */
#define ENVFILE_MAX_BYTES (4u * 1024 * 1024)
/* Backups are NAME.bak-YYYYmmddTHHMMSS (UTC). */
#define ENVFILE_BACKUP_INFIX ".bak-"
/* Temporary files beside NAME are .NAME.pgcutover-XXXXXX (mkstemp). */
#define ENVFILE_TEMP_INFIX ".pgcutover-"

/* What we last saw of a file. */
typedef struct envfile_stamp {
	bool exists;
	int64_t mtime_ns;
	int64_t size;
	char sha256[65];
} envfile_stamp;

typedef struct envfile_entry {
	char *key;
	char *value;      /* unquoted, escapes resolved */
	int line;         /* 1-based */
	char quote;       /* '"', '\'' or 0 */
	bool exported;    /* "export KEY=..." */
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
 * stamp.exists false. */
int envfile_load(const char *path, envfile **out, pgc_err *e);
void envfile_free(envfile *ef);
/* Parses text without touching the disk (exposed for tests). */
envfile *envfile_parse(const char *path, const char *text, size_t len);

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
 * style and `export` kept); a missing key is appended.  Atomic: a temporary
 * file in the same directory with the same mode, fsync, rename, fsync of the
 * directory; the previous bytes are kept in a backup beside the file.
 * When expect is non-NULL and the file no longer matches it, nothing is
 * written and -1 is returned with e->code PGC_EXIT_TEMPFAIL ("changed
 * behind our back").  Setting an unchanged value writes nothing. */
int envfile_set(const char *path, const char *key, const char *value,
                const envfile_stamp *expect, envfile_set_result *res, pgc_err *e);
void envfile_set_result_free(envfile_set_result *r);

/* Rewrites text with key set to value (no I/O; exposed for tests).
 * Returns a new string; *old_out gets the previous value or NULL. */
char *envfile_render_set(const char *text, size_t len, const char *key,
                         const char *value, char **old_out);

/* True for names such as DB_PASSWORD, API_KEY, AUTH_TOKEN, CLIENT_SECRET. */
bool envfile_name_is_secret(const char *name);
/* True for a valid .env / shell variable name. */
bool envfile_valid_name(const char *name);

#endif
