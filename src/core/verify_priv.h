/*
 * verify_priv.h -- what verify.c (PostgreSQL on both sides, the session)
 * and verify_rest.c (a Supabase/PostgREST source, pages hashed here)
 * share.  Not a public interface: verify.h is.
 */
#ifndef PGCUTOVER_VERIFY_PRIV_H
#define PGCUTOVER_VERIFY_PRIV_H

#include <stdint.h>
#include <libpq-fe.h>
#include <cjson/cJSON.h>
#include "pgcutover/evpay.h"
#include "pgcutover/rest.h"
#include "pgcutover/verify.h"

/* Key parts inside one joined key text (never in text PostgreSQL returns). */
#define VFY_KEY_SEP '\x1f'

typedef enum vtask_kind {
	VT_META, VT_RECHECK, VT_PLAN, VT_SAMPLE, VT_RANGE, VT_SPLIT, VT_LEAF, VT_COLS, VT_WHOLE,
	VT_CONFIRM,   /* rows one side lacked in their range, looked up by key on the other */
	VT_FKS, VT_ORPHANS, VT_NULLS,  /* integrity on the target */
	/* a Supabase/PostgREST source (verify_rest.c) */
	VT_RPAGE,     /* a page of source rows after the last key */
	VT_RMATCH,    /* the target's rows of that page's key range */
	VT_RWHOLE,    /* no key: a page of each side by offset, summed */
	VT_RRECHECK,  /* a range the last run found differing, from the source */
	VT_RCONFIRM   /* rows one side lacked in their page, looked up by key on the other */
} vtask_kind;

/* A row by key and hash: a REST page's row hashed on the client, or a row
 * one side lacked in its range, kept to be confirmed by key at the end. */
typedef struct vrrow {
	char *key;            /* key texts joined by VFY_KEY_SEP */
	char *key_json;       /* 42, "abc" or [1,"x"] */
	uint64_t hash;        /* the canonical row */
	uint64_t *col;        /* each common column (REST; NULL otherwise) */
} vrrow;

typedef enum vconn_state { VC_UNUSED, VC_CONNECTING, VC_READY, VC_BUSY, VC_RESTING } vconn_state;

typedef struct vside vside;
typedef struct vtask vtask;

typedef struct vconn {
	vside *sd;
	PGconn *conn;
	int fd;
	vconn_state st;
	int timer_id;
	vtask *task;          /* the half in flight */
	bool got_result;
	bool flushing;
} vconn;

struct vside {
	vfy_session *vs;
	int which;            /* 0 source, 1 target */
	const char *label;
	char *server;         /* host=… port=… dbname=… (never a secret) */
	char *conninfo, *options;
	vconn *conns;
	size_t n_conns;
	vtask *head, *tail;   /* queued halves */
	bool ever_up;
	char *down_err;       /* why the last connection failed, with none left */
	pid_t *cancellers;
	size_t n_cancellers;
};

/* A range of key values: lo inclusive, hi exclusive; NULL = open. */
typedef struct vrange {
	char **lo, **hi;      /* n_key texts each */
} vrange;

struct vtask {
	vtask *next[2];
	vfy_session *vs;
	size_t ti;
	vtask_kind kind;
	char *sql[2];         /* NULL: no statement on that side */
	PGresult *res[2];
	char *err[2];
	int waiting;          /* halves queued or in flight */
	vrange r;
	int split_side;       /* VT_SPLIT: the side with more rows */
	char *what;           /* VT_ORPHANS: constraint; VT_NULLS: column */
	char *refs;           /* VT_ORPHANS: the referenced table */
	bool not_valid;       /* VT_ORPHANS: the constraint is NOT VALID */
	int64_t count[2];     /* VT_SPLIT: the range's rows per side */
	/* the source half of a REST task: a page request */
	char *rest_query;     /* NULL: no REST half */
	int64_t rest_first;   /* Range: rest_first-(rest_first+rest_n-1) */
	int64_t rest_n;
	int rest_count;       /* Prefer: count=…, -1 none */
	int rest_id;          /* request in flight, 0 none */
	vtask *rest_next;     /* the session's list of those in flight */
	cJSON *rj;            /* the page (a JSON array) */
	int64_t rtotal;       /* its Content-Range total, -1 unknown */
	vrrow *rows;          /* VT_RMATCH: the source page's rows, hashed */
	size_t n_rows;
	char **rlo;           /* VT_RMATCH: keys after this (NULL: from the start) */
	char **rhi;           /* … up to and with this (NULL: to the end) */
};

typedef struct vcol {
	char *name;
	char *typname;        /* pg_type.typname */
	char *type;           /* format_type() */
	int pkpos;            /* 1-based position in the primary key, 0 none */
	bool notnull;
	char *collation;      /* pg_collation.collname, "" none */
} vcol;

typedef struct vtab {
	vfy_table pub;
	char *qname;          /* quoted SQL name */
	vcol *cols[2];
	size_t n_cols[2];
	bool have_meta[2];
	char *hash_expr[2];   /* 64-bit hash of the canonical row text */
	char **col_expr[2];   /* canonical text of each common column */
	char **col_names;     /* common columns, by name */
	size_t n_common;
	char **key_names;     /* quoted key columns, in key order */
	char **key_types;     /* their source types, for literals */
	bool *key_int;        /* an integer key column: a JSON number */
	size_t n_key;
	bool int_key;         /* one integer key column: cut by arithmetic */
	bool ctid_keys;       /* integrity findings name rows by ctid (no usable key) */
	char *key_list;       /* "k1, k2" */
	char *key_text;       /* "k1::text, k2::text" */
	vrange *differed;     /* leaf ranges that differed (recorded for the next run) */
	size_t n_differed;
	evr_verify_range *prior;  /* those the last recorded run found */
	size_t n_prior;
	size_t recheck_pending;
	int outstanding;      /* tasks not handled yet */
	bool finished;
	/* a REST source */
	bool *col_ts;         /* common column is timestamptz: compared in UTC */
	char *rselect;        /* select=… of the common columns as text */
	char *rorder;         /* order=… of the key (or every column, no key) */
	char *tselect;        /* the target's SELECT list of the same text */
	char **rlast;         /* the last key of the last source page */
	bool rsource_done;    /* an empty page came back */
	bool rpaging;         /* a page request is out */
	char **rkeys;         /* the key's column names (not quoted), n_key */
	vfy_session *rvs;     /* for the pause timer */
	int rmatch_out;       /* target range queries not handled yet */
	int rpause_timer;
	int64_t roffset[2];   /* no key: each side's next offset */
	bool rend[2];         /* no key: that side's pages ended */
	uint64_t rsum[2];     /* no key: sum of row hashes, per side */
	/* rows found on one side only within their page ([0] the source's,
	 * [1] the target's): confirmed by key at the end, since a row can sit
	 * in another page on the other side (another collation's order) */
	vrrow *stray[2];
	size_t n_stray[2];
	bool strays_resolved;
	char *collation_note; /* the key's collations differ between the sides */
} vtab;

struct vfy_session {
	const config *cfg;
	loop *lp;
	vfy_limits lim;
	vside side[2];
	vtab *tabs;
	size_t n_tabs;
	bool begun, done, cancelled;
	state *st;
	char *record_error;
	vfy_listener_fn fn;
	void *ud;
	/* a Supabase/PostgREST source (verify_rest.c); NULL: PostgreSQL */
	rest_client *rest;
	vtask *rest_inflight;
	int page_rows;
	strbuf rowbuf;        /* one canonical row, reused */
};

/* ---- shared by verify.c and verify_rest.c ---- */
void vfy_strv_free(char **v, size_t n);
char **vfy_strv_dup(char *const *v, size_t n);
void vfy_lit(strbuf *sb, const char *s);
char *vfy_ident(const char *s);
void vfy_notify(vfy_session *vs);
vtask *vfy_task_new(vfy_session *vs, size_t ti, vtask_kind kind);
void vfy_task_submit(vtask *t);
void vfy_half_done(vtask *t);
void vfy_tab_fail(vfy_session *vs, vtab *tb, const char *err);
void vfy_check_done(vfy_session *vs);
void vfy_keys_add(vfy_keys *k, const char *json);
void vfy_note_differed(vtab *tb, const vrange *r);
void vfy_submit_integrity(vfy_session *vs, size_t ti, const char *key_text);
char *vfy_meta_sql(const char *qname);   /* a table's columns, types, key, NOT NULL */

/* verify_rest.c: a Supabase/PostgREST source (vs->rest set). */
int vfy_rest_open(vfy_session *vs, pgc_err *e);
void vfy_rest_begin_table(vfy_session *vs, size_t ti);
void vfy_rest_submit(vtask *t);          /* the source half of t */
bool vfy_rest_handle(vtask *t);          /* true: a REST kind, handled */
void vfy_rest_task_free(vtask *t);
void vfy_rest_tab_free(vtab *tb);
void vfy_rest_resolve_strays(vfy_session *vs, size_t ti);
void vfy_rows_free(vrrow *v, size_t n);
int vfy_vrrow_cmp(const void *x, const void *y);   /* by key */
/* The table's rows kept on one side only, once its ranges or pages are
 * done: a pair under one key (the row sat in another range on each side)
 * goes to changed when the hashes differ; the rest of side w go to
 * confirm, at most batch at a time (owned by confirm), to be looked up on
 * the other side.  Marks the table's kept rows resolved. */
typedef void (*vfy_pair_fn)(vfy_session *vs, size_t ti, const vrrow *src, const vrrow *dst, void *ud);
typedef void (*vfy_confirm_fn)(vfy_session *vs, size_t ti, int w, vrrow *rows, size_t n);
void vfy_strays_resolve(vfy_session *vs, size_t ti, size_t batch, vfy_pair_fn changed, vfy_confirm_fn confirm,
                        void *ud);
void vfy_rest_stop(vfy_session *vs);     /* cancel what is in flight */

#endif
