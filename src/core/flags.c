/*
 * flags.c -- the declared .env flags as they are now (see action.h): the
 * value in the config's env_file, the last value pgcutover set (from the
 * audit's flag_set events for that file), and whether the file or a flag
 * was changed behind pgcutover's back since its last write.  Read by
 * `pgcutover flags` and the console's flags panel; it changes nothing.
 *
 * A value is compared with pgcutover's last write by the keyed hash the
 * write recorded (new_hmac, act_flag_hmac), since the record holds a
 * secret or a URL's password only masked; a record without one (older
 * versions, no key) is compared by its masked text, and a secret-looking
 * flag's then not at all.
 *
 * A flag changed behind pgcutover's back is recorded as a flag_drift event
 * (act_flags_record_drift) once per value: the last flag_drift after the
 * flag's last flag_set tells whether this value was recorded already.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include "pgcutover/action.h"
#include "pgcutover/evpay.h"

#define FLAG_KEY_BYTES 32
#define FLAG_KEY_HEX (2 * FLAG_KEY_BYTES)
#define FLAG_KEY_MODE 0600   /* the key beside the state is its owner's alone */

typedef struct flag_scan {
	const char *file;
	act_flags *f;
	char *last_sha;     /* file sha256 after pgcutover's newest write */
	char **last_hmac;   /* per flag (f's order): new_hmac of its newest write */
	char **drift_key;   /* per flag: evr_flag_drift_key of its last flag_drift since that write */
} flag_scan;

char *act_flag_shown(const act_masker *m, const char *name, const char *value, const char *absent)
{
	if (!value)
		return xstrdup(absent);
	if (envfile_name_is_secret(name))
		return xstrdup(ACT_MASK);
	char *masked = act_masker_apply(m, value);
	char *out = pgc_sanitize_n(masked, strlen(masked), PGC_SANITIZE_LINES);
	free(masked);
	return out;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int read_key(const char *path, unsigned char key[FLAG_KEY_BYTES])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	char buf[FLAG_KEY_HEX + 2];
	struct stat sb;
	ssize_t n = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) ? read(fd, buf, sizeof buf) : -1;
	close(fd);
	if (n < FLAG_KEY_HEX)
		return -1;
	for (size_t i = 0; i < FLAG_KEY_BYTES; i++) {
		int hi = hexval(buf[2 * i]), lo = hexval(buf[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		key[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* Written whole under a temporary name and linked into place
 * (pgc_write_file_atomic), so a reader never sees half a key and two
 * writers end up with the same one. */
static int make_key(const char *path)
{
	unsigned char key[FLAG_KEY_BYTES];
	if (RAND_bytes(key, sizeof key) != 1)
		return -1;
	char hex[FLAG_KEY_HEX + 2];
	for (size_t i = 0; i < FLAG_KEY_BYTES; i++)
		snprintf(hex + 2 * i, 3, "%02x", key[i]);
	hex[FLAG_KEY_HEX] = '\n';
	hex[FLAG_KEY_HEX + 1] = '\0';
	/* EEXIST: another writer's key came first; both then read that one */
	pgc_err e = {0};
	if (pgc_write_file_atomic(path, hex, FLAG_KEY_HEX + 1, FLAG_KEY_MODE,
	                          PGC_WRITE_NO_CLOBBER | PGC_WRITE_EXACT_MODE, &e) == 0 || errno == EEXIST)
		return 0;
	return -1;
}

int act_flag_hmac(const state *st, bool create, const char *value, char out[65])
{
	const char *sp = st ? state_path(st) : NULL;
	if (!sp || !*sp || strcmp(sp, ":memory:") == 0 || !value)
		return -1;
	char *path = xasprintf("%s.key", sp);
	unsigned char key[FLAG_KEY_BYTES];
	int rc = read_key(path, key);
	if (rc < 0 && create && errno == ENOENT && make_key(path) == 0)
		rc = read_key(path, key);
	free(path);
	if (rc < 0)
		return -1;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (!HMAC(EVP_sha256(), key, sizeof key, (const unsigned char *)value, strlen(value), md, &mdlen) ||
	    mdlen != 32)
		return -1;
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

static act_flag_status *find(act_flags *f, const char *name)
{
	for (size_t i = 0; i < f->n_flags; i++)
		if (strcmp(f->flags[i].name, name) == 0)
			return &f->flags[i];
	return NULL;
}

static int scan_flag_set(const st_event *ev, void *ud)
{
	flag_scan *s = ud;
	if (strcmp(ev->kind, EV_FLAG_SET) != 0)
		return 0;
	evr_flag_set f;
	evr_flag_set_read(ev->payload, &f);
	act_flag_status *fs = f.name ? find(s->f, f.name) : NULL;
	if (fs && (!f.file || strcmp(f.file, s->file) == 0)) {
		char **h = &s->last_hmac[fs - s->f->flags];
		free(*h);
		*h = f.new_hmac;
		f.new_hmac = NULL;
		free(fs->last_set);
		free(fs->last_set_by);
		fs->last_set = f.new_value;
		f.new_value = NULL;
		fs->last_set_by = xstrdup(ev->operator_name ? ev->operator_name : "");
		fs->last_set_at = ev->ts;
		fs->last_set_id = ev->id;
		if (f.sha256 && f.sha256[0]) {
			free(s->last_sha);
			s->last_sha = f.sha256;
			f.sha256 = NULL;
		}
	}
	evr_flag_set_free(&f);
	return 0;
}

static int scan_flag_drift(const st_event *ev, void *ud)
{
	flag_scan *s = ud;
	if (strcmp(ev->kind, EV_FLAG_DRIFT) != 0)
		return 0;
	evr_flag_drift d;
	evr_flag_drift_read(ev->payload, &d);
	act_flag_status *fs = d.name ? find(s->f, d.name) : NULL;
	if (fs && ev->id > fs->last_set_id && (!d.file || strcmp(d.file, s->file) == 0)) {
		char **k = &s->drift_key[fs - s->f->flags];
		free(*k);
		*k = evr_flag_drift_key(d.hmac, d.absent, d.value);
	}
	evr_flag_drift_free(&d);
	return 0;
}

static void scan_free(flag_scan *s, size_t n)
{
	free(s->last_sha);
	for (size_t i = 0; i < n; i++) {
		free(s->last_hmac[i]);
		free(s->drift_key[i]);
	}
	free(s->last_hmac);
	free(s->drift_key);
}

bool act_flag_declared(const config *cfg, const runbook *rb, const char *name)
{
	return act_is_declared_flag(cfg, rb, name);
}

static void add_flag(act_flags *f, const char *name)
{
	if (find(f, name))
		return;
	f->flags = xrealloc(f->flags, (f->n_flags + 1) * sizeof *f->flags);
	act_flag_status *fs = &f->flags[f->n_flags++];
	memset(fs, 0, sizeof *fs);
	fs->name = xstrdup(name);
}

int act_flags_read(const config *cfg, const runbook *rb, state *st, act_flags **out, pgc_err *e)
{
	if (!cfg || !cfg->env_file)
		return pgc_fail(e, PGC_EXIT_CONFIG, "the config names no env_file");
	envfile *ef;
	if (envfile_load(cfg->env_file, &ef, e) < 0)
		return -1;
	act_flags *f = xcalloc(1, sizeof *f);
	f->file = xstrdup(cfg->env_file);
	f->stamp = ef->stamp;
	for (size_t i = 0; i < cfg->n_flags; i++)
		add_flag(f, cfg->flags[i]);
	for (size_t p = 0; rb && p < rb->n_phases; p++)
		for (size_t i = 0; i < rb->phases[p].n_flag_edits; i++)
			add_flag(f, rb->phases[p].flag_edits[i].name);
	flag_scan scan = {.file = cfg->env_file, .f = f, .last_hmac = xcalloc(f->n_flags + 1, sizeof(char *)),
	                  .drift_key = xcalloc(f->n_flags + 1, sizeof(char *))};
	if (st && (state_foreach_kind(st, EV_FLAG_SET, 0, scan_flag_set, &scan, e) < 0 ||
	           state_foreach_kind(st, EV_FLAG_DRIFT, 0, scan_flag_drift, &scan, e) < 0)) {
		envfile_free(ef);
		scan_free(&scan, f->n_flags);
		act_flags_free(f);
		return -1;
	}
	f->file_changed_behind_back = scan.last_sha && ef->stamp.exists &&
	                              strcmp(scan.last_sha, ef->stamp.sha256) != 0;
	act_masker *m = act_masker_new(cfg);
	for (size_t i = 0; i < f->n_flags; i++) {
		act_flag_status *fs = &f->flags[i];
		const char *v = envfile_get(ef, fs->name);
		bool secret = envfile_name_is_secret(fs->name);
		fs->value = v ? act_flag_shown(m, fs->name, v, NULL) : NULL;
		char hm[65];
		bool have_hm = v && act_flag_hmac(st, false, v, hm) == 0;
		if (have_hm)
			fs->drift_hmac = xstrdup(hm);
		if (fs->last_set && scan.last_hmac[i] && have_hm) {
			fs->changed_behind_back = strcmp(hm, scan.last_hmac[i]) != 0;
		} else if (fs->last_set && !v) {
			fs->changed_behind_back = true;
		} else if (fs->last_set && !secret) {
			/* recorded masked (a URL's password) by an older version, or
			 * the key is not here: compared masked */
			char *mv = act_masker_apply(m, v);
			fs->changed_behind_back = strcmp(mv, fs->last_set) != 0;
			free(mv);
		}
		/* else a secret recorded as ***, or a keyed hash without its key:
		 * it cannot be compared */
		if (fs->last_set) {
			char *s = pgc_sanitize_n(fs->last_set, strlen(fs->last_set), PGC_SANITIZE_LINES);
			free(fs->last_set);
			fs->last_set = s;
		}
		if (fs->changed_behind_back && scan.drift_key[i]) {
			char *k = evr_flag_drift_key(fs->drift_hmac, v == NULL, fs->value);
			fs->drift_recorded = strcmp(k, scan.drift_key[i]) == 0;
			free(k);
		}
	}
	scan_free(&scan, f->n_flags);
	act_masker_free(m);
	envfile_free(ef);
	*out = f;
	return 0;
}

void act_flags_free(act_flags *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n_flags; i++) {
		free(f->flags[i].name);
		free(f->flags[i].value);
		free(f->flags[i].last_set);
		free(f->flags[i].last_set_by);
		free(f->flags[i].drift_hmac);
	}
	free(f->flags);
	free(f->file);
	free(f);
}

int act_flags_record_drift(state *st, const config *cfg, act_flags *f, const char *noticed_by,
                           int *n_recorded, pgc_err *e)
{
	*n_recorded = 0;
	act_masker *m = act_masker_new(cfg);
	int rc = 0;
	for (size_t i = 0; i < f->n_flags && rc == 0; i++) {
		act_flag_status *fs = &f->flags[i];
		if (!fs->changed_behind_back || fs->drift_recorded)
			continue;
		evp_flag_drift d = {.name = fs->name, .file = f->file, .value = fs->value, .last_set = fs->last_set,
		                    .hmac = fs->drift_hmac, .sha256 = f->stamp.exists ? f->stamp.sha256 : NULL,
		                    .noticed_by = noticed_by};
		char *js = evp_flag_drift_write(&d, m);
		rc = state_append(st, EV_FLAG_DRIFT, NULL, NULL, js, NULL, e);
		free(js);
		if (rc == 0) {
			fs->drift_recorded = true;
			(*n_recorded)++;
		}
	}
	act_masker_free(m);
	return rc < 0 ? -1 : 0;
}

static void add_opt_str(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

char *act_flags_json(const act_flags *f)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "file", f->file);
	cJSON_AddBoolToObject(root, "exists", f->stamp.exists);
	add_opt_str(root, "sha256", f->stamp.exists ? f->stamp.sha256 : NULL);
	cJSON_AddBoolToObject(root, "file_changed_behind_back", f->file_changed_behind_back);
	cJSON *arr = cJSON_AddArrayToObject(root, "flags");
	for (size_t i = 0; i < f->n_flags; i++) {
		const act_flag_status *fs = &f->flags[i];
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "name", fs->name);
		add_opt_str(x, "value", fs->value);
		add_opt_str(x, "last_set", fs->last_set);
		char ts[32];
		if (fs->last_set_at > 0)
			pgc_iso8601(fs->last_set_at, ts, sizeof ts);
		add_opt_str(x, "last_set_at", fs->last_set_at > 0 ? ts : NULL);
		add_opt_str(x, "last_set_by", fs->last_set_by);
		cJSON_AddBoolToObject(x, "changed_behind_back", fs->changed_behind_back);
		cJSON_AddBoolToObject(x, "drift_recorded", fs->drift_recorded);
		cJSON_AddItemToArray(arr, x);
	}
	char *s = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	char *ret = xstrdup(s);
	cJSON_free(s);
	return ret;
}
