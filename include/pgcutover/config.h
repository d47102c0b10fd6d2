/*
 * config.h -- pgcutover.json: where the runbook and state are, how to reach
 * the source and target, the tables to compare, the .env flags, health URLs
 * and the notification webhook.  Parsed with cJSON; errors carry line:col.
 * Passwords are never accepted here (see pgcutover.json(5)).
 */
#ifndef PGCUTOVER_CONFIG_H
#define PGCUTOVER_CONFIG_H

#include "pgcutover/util.h"

typedef enum cfg_endpoint_kind {
	CFG_EP_NONE,
	CFG_EP_POSTGRES,  /* libpq conninfo or "service=NAME" */
	CFG_EP_SUPABASE,  /* PostgREST over HTTP */
} cfg_endpoint_kind;

typedef struct cfg_endpoint {
	cfg_endpoint_kind kind;
	char *conninfo;   /* CFG_EP_POSTGRES */
	char *url;        /* CFG_EP_SUPABASE: base URL, e.g. https://x.supabase.co */
	char *key_env;    /* CFG_EP_SUPABASE: environment variable holding the key */
	char *count;      /* CFG_EP_SUPABASE: "exact" | "planned" | "estimated" */
} cfg_endpoint;

typedef struct cfg_table {
	char *name;       /* may be schema-qualified "public.clients" */
	char *pk;         /* optional primary key column */
} cfg_table;

typedef struct cfg_health {
	char *name;
	char *url;
	int expect_status;   /* 0 = any 2xx */
	char *expect_body;   /* substring, or NULL */
	int timeout_ms;
} cfg_health;

typedef struct config {
	char *path;          /* file it was read from */
	char *dir;           /* directory of path: relative paths resolve here */
	char *runbook;       /* absolute after load */
	char *state;         /* absolute; NULL = default under XDG_STATE_HOME */
	cfg_endpoint source, target;
	cfg_table *tables;   size_t n_tables;
	char *env_file;
	int env_backups;      /* backups of env_file a set keeps (ENVFILE_DEFAULT_KEEP_BACKUPS) */
	char **flags;        size_t n_flags;
	cfg_health *health;  size_t n_health;
	char *notify_url;
	char *notify_url_env; /* or: environment variable holding the webhook URL */
	char *operator_name;
	char *workdir;       /* for commands; default: config dir */
	int command_timeout_s;
	int pool_size;       /* connections per side for counts (default 4) */
	int statement_timeout_ms;
	int counts_budget_pct; /* console: share of wall time exact re-counts may take per side */
	int stats_delay_s;   /* how long PostgreSQL may hold back write counters */
	char *point_of_no_return; /* item id */
	bool auto_tick;      /* a command that exits 0 ticks its item */
	bool state_group_readable; /* state file 0640, its directory g+rx: monitors in the group */
	char **gates;        size_t n_gates; /* phase ids requiring tables matched */
	int seq_offset;      /* "sequences": {"offset"}: added by `sequences sync` (default 0) */
	int seq_headroom_floor; /* {"headroom_floor"}: fewer values left warns */
	int freeze_quiet_s;  /* "freeze": {"quiet_s"}: quiet seconds that prove the freeze */
	char **freeze_ignore; size_t n_freeze_ignore; /* {"ignore"}: roles / application names */
	bool freeze_ignore_set; /* "ignore" given (even []): replaces the hosted defaults */
	bool switch_gated;   /* the switch item waits for the go board (default; "switch": false turns it off) */
	char *switch_item;   /* "switch": {"item"}: the runbook item the go board gates */
	char *switch_postpone_file; /* {"postpone_file"}: while it exists the switch waits */
	int64_t verify_rows_per_range; /* "verify": {"rows_per_range"}: 0 = default */
	int verify_pause_ms;  /* "verify": {"pause_ms"}: rest after each range */
	int verify_page_rows; /* "verify": {"page_rows"}: rows per REST page, 0 = default */
	char **verify_gates; size_t n_verify_gates; /* "verify": {"gates"}: phase ids
	                       * requiring the last verify run all equal */
	char *text;          size_t text_len; /* the JSON as read, for config_where() */
} config;

#define CFG_DEFAULT_NAME "pgcutover.json"
#define CFG_DEFAULT_POOL 4
#define CFG_DEFAULT_STATEMENT_TIMEOUT_MS 60000
#define CFG_DEFAULT_COUNTS_BUDGET_PCT 10
/* PostgreSQL 15 flushes a backend's table counters at most once a second
 * and may put a flush off for up to 60 s (PGSTAT_MAX_INTERVAL) */
#define CFG_DEFAULT_STATS_DELAY_S 60
#define CFG_MAX_STATS_DELAY_S 3600
#define CFG_DEFAULT_COMMAND_TIMEOUT_S 600
#define CFG_DEFAULT_HEALTH_TIMEOUT_MS 5000
#define CFG_DEFAULT_SEQ_HEADROOM_FLOOR 10000000
#define CFG_DEFAULT_FREEZE_QUIET_S 30
#define CFG_MAX_FREEZE_QUIET_S 3600

/* Parses text; path is used for messages and for resolving relative paths. */
int config_parse(const char *text, size_t len, const char *path, config **out, pgc_err *e);
int config_load(const char *path, config **out, pgc_err *e);
void config_free(config *c);

/* Default state path for a runbook: $XDG_STATE_HOME/pgcutover/<name>.db
 * (or ~/.local/state/...).  Creates the directory 0700.  Returns malloc'd. */
char *config_default_state_path(const char *runbook_path, pgc_err *e);

/* True for "table" or "schema.table", each part a plain or "quoted"
 * identifier: what the "tables" key accepts. */
bool config_is_table_name(const char *s);

/* "path:line:col" of a value named by a key path such as "tables[3]",
 * "source.supabase.url" or "point_of_no_return", so other modules can point
 * at the config in their messages ("tables[3]: no such table on the
 * target").  Falls back to "path" alone when the key is not in the file.
 * Returns malloc'd. */
char *config_where(const config *c, const char *key_path);

/* Cross-checks the config against the runbook it names: point_of_no_return
 * must be an item, gates must be phases, each flag should be set by some
 * NAME=VALUE line.  Appends "path:line:col: message" strings to *warnings
 * (malloc'd, caller frees) and returns how many it added. */
struct runbook;
size_t config_check_runbook(const config *c, const struct runbook *rb,
                            char ***warnings, size_t *n_warnings);

#endif
