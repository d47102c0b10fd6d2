/*
 * runbook.h -- the in-memory model of a Markdown migration runbook and its
 * parser.  Read-only after runbook_parse(); every other module (check, the
 * console, actions, replay) reads this model.  See pgcutover-runbook(5) and
 * shared/runbook-format.md for the conventions recognised.
 */
#ifndef PGCUTOVER_RUNBOOK_H
#define PGCUTOVER_RUNBOOK_H

#include "pgcutover/util.h"

#define RB_ID_MAX 64

typedef enum rb_mark {
	RB_MARK_OPEN,     /* [ ] */
	RB_MARK_DONE,     /* [x] [X] */
	RB_MARK_SKIPPED,  /* [-] */
	RB_MARK_PROGRESS, /* [~] */
	RB_MARK_BLOCKED,  /* [!] */
	RB_MARK_NA,       /* [N/A] */
	RB_MARK_OTHER,    /* anything else in brackets, kept as written */
} rb_mark;

/* A NAME=VALUE line (also "export NAME=VALUE") inside a command or .env
 * block whose NAME is a declared flag. */
typedef struct rb_flag_edit {
	char *name;
	char *value;
	int line;
	int item;             /* index in phase->items of the block's item, -1 if none */
	int step;             /* index in phase->steps when the block is a step's, else -1 */
} rb_flag_edit;

/* A fenced code block. */
typedef struct rb_block {
	char *lang;       /* "" when unlabeled */
	char *text;       /* contents without fences, common indent removed */
	int line;         /* line of the opening fence */
	bool runnable;    /* bash / sh / shell / unlabeled, or a .env block */
	bool env;         /* a .env block (```env, ```dotenv, ".env" in its info
	                   * string or in the line before it): only its flag lines
	                   * are acted on, the rest is never run as shell */
} rb_block;

typedef struct rb_item {
	char id[RB_ID_MAX];   /* "<phase id>.<ordinal>", ordinal 1-based within phase */
	char hash[17];        /* first 16 hex digits of sha256 of the normalised text */
	char *text;           /* item text as written (repaired), without the "- [ ]" */
	char mark_text[16];   /* what was inside the brackets: " ", "x", "N/A" ... */
	rb_mark mark;
	int depth;            /* 0 = top level in its step */
	int parent;           /* index in phase->items, -1 at top */
	int step;             /* index in phase->steps, -1 when before any step */
	int line;
	rb_block *block;      /* first fenced block attached to this item, or NULL */
	char *inline_code;    /* first `inline code` in the text, or NULL */
	bool health_check;    /* the item is only a `curl URL`, or says
	                       * "Health check:" then a `curl URL` or a URL */
	char *recurring;      /* "Every 2 hours: Error logs" -> "2 hours", or NULL */
	bool rollback;        /* inside a rollback step */
	char *detail;         /* continuation lines under the item ("\n"-joined), or NULL */
} rb_item;

/* What a heading that names a rollback (or carries an operator's marker)
 * was taken as: the steps to run when rolling back, or ordinary work
 * (readiness, rehearsal, monitoring) that counts like any other. */
typedef enum rb_rollback_kind {
	RB_ROLLBACK_NONE,       /* the heading says nothing of a rollback */
	RB_ROLLBACK_PROCEDURE,  /* "Rollback (if needed)", "Emergency Rollback", "Revert" */
	RB_ROLLBACK_WORK,       /* "Rollback readiness", "Rollback rehearsal" */
} rb_rollback_kind;

typedef struct rb_step {
	char id[RB_ID_MAX];   /* "<phase id>.s<ordinal>": what `run` and x take */
	char hash[17];        /* of the normalised title, as an item's */
	char *title;          /* heading text, emoji stripped */
	int level;            /* 3 for ###, 4 for #### ... */
	int line;
	char at[6];           /* "02:05" or "" */
	int duration_min;     /* 10 for "10 min", 0 if none; a range's upper end
	                       * ("15-30 minutes": 30), which the plan uses */
	int duration_min_low; /* a range's lower end (15), else duration_min */
	bool has_offset;      /* a countdown: "T-48 Hours", "T+30 min" */
	int offset_min;       /* minutes from go-time (the cutover start): -2880, +30 */
	char window_from[6];  /* "02:00" in "(02:00-06:00)" or "(2:00 AM - 6:00 AM)", or "" */
	char window_to[6];
	bool rollback;        /* a rollback procedure: its items do not count as work */
	rb_rollback_kind rollback_kind;
	char *rollback_why;   /* why it was read so ("heading says \"readiness\""), or NULL */
	char *checkpoint;     /* text of **Checkpoint:** closing the step, or NULL */
	int checkpoint_line;
	rb_block *block;      /* the step's own command: a block under the heading
	                       * that follows no item (before its checklist, or a
	                       * step without checkboxes); NULL if none */
} rb_step;

typedef struct rb_phase {
	char id[RB_ID_MAX];   /* "0", "0.8", "3", or a slug "post-migration" */
	char *title;          /* heading text minus emoji and the "Phase N:" prefix */
	int level;            /* 2 or 3 */
	int line;
	bool numbered;
	/* metadata lines (**Key:** value) directly in the phase; NULL if absent */
	char *status, *goal, *duration, *risk, *date;
	rb_item *items;  size_t n_items;
	rb_step *steps;  size_t n_steps;
	char **notes;    size_t n_notes;   /* plain bullets and text lines */
	rb_block **blocks; size_t n_blocks; /* every fenced block in the phase */
	rb_flag_edit *flag_edits; size_t n_flag_edits;
	int done;             /* items marked [x] in the file */
	int commands;         /* runnable blocks attached to items and to steps */
	bool has_rollback;    /* a rollback procedure in it (its title or a step) */
	bool rollback;        /* the whole phase is a rollback procedure (its title) */
	rb_rollback_kind rollback_kind;   /* of its title */
	char *rollback_why;
	char *checkpoint;     /* **Checkpoint:** before any step, or NULL */
	int checkpoint_line;
} rb_phase;

typedef struct rb_section {      /* a ## section without checkboxes: context */
	char *title;
	int line;
	char *text;
} rb_section;

typedef struct runbook {
	char *path;
	char *title;                 /* "# Title", emoji stripped; "" if none */
	char sha256[65];             /* of the file bytes as read */
	bool repaired_encoding;
	int repaired_lines;
	char *status;                /* top-level **Status:** etc. */
	char *goal, *duration, *risk, *date;
	rb_phase *phases;   size_t n_phases;
	rb_section *sections; size_t n_sections;
	char **warnings;    size_t n_warnings;  /* "file:line:col: text" */
	/* every NAME=VALUE line seen in runnable blocks (used by `init`) */
	char **assignments; size_t n_assignments;
	/* tables named under a "dependency order" list (used by `init`) */
	char **dep_tables;  size_t n_dep_tables;
	size_t n_items_total;
	/* every item sat in a rollback procedure: the file is a rollback plan,
	 * and its items are read as the work (not as 0 of 0) */
	bool rollback_plan;
} runbook;

typedef struct rb_options {
	const char *const *flags; /* declared flag names (may be NULL) */
	size_t n_flags;
	size_t max_bytes;         /* 0 = RB_DEFAULT_MAX_BYTES */
} rb_options;

#define RB_DEFAULT_MAX_BYTES (64u * 1024 * 1024)
#define RB_MAX_DEPTH 64

/* Parses buf (len bytes) read from path.  Returns 0, or -1 with e->code =
 * PGC_EXIT_DATAERR and e->msg = "path:line:col: message". */
int runbook_parse(const char *buf, size_t len, const char *path,
                  const rb_options *opt, runbook **out, pgc_err *e);
/* Reads and parses a file. */
int runbook_load(const char *path, const rb_options *opt, runbook **out, pgc_err *e);
void runbook_free(runbook *rb);

const rb_phase *runbook_phase(const runbook *rb, const char *id);
/* Finds an item by id ("3.7"); sets *phase_out when non-NULL. */
const rb_item *runbook_item(const runbook *rb, const char *id, const rb_phase **phase_out);
/* Finds a step by id ("5.s2"); sets *phase_out when non-NULL. */
const rb_step *runbook_step(const runbook *rb, const char *id, const rb_phase **phase_out);

/* After an item text's "Health check:" label (any case, bold or not, also
 * "Healthcheck:"), the rest of the text; NULL when it has none. */
const char *rb_health_label(const char *text);

/* How a heading's words read: a rollback procedure, rollback work, or
 * neither.  *why (when non-NULL) gets a malloc'd reason naming the word
 * that decided ("heading says \"readiness\""), NULL for NONE.
 * Exposed for tests and for `check`. */
rb_rollback_kind rb_rollback_classify(const char *title, char **why);

/* Line-by-line lenient repair of UTF-8 that was read as Windows-1252 and
 * saved again as UTF-8.  Returns a new string when anything was repaired
 * (and sets *changed), NULL otherwise.  Exposed for tests. */
char *rb_repair_mojibake(const char *line, size_t len, bool *changed);

#endif
