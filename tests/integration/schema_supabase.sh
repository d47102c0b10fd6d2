#!/bin/sh
# schema_supabase.sh -- `pgcutover schema` lists what a Supabase exit
# breaks: a source with row-level security and a policy for
# `authenticated`, grants to `anon` and `authenticated`, an extension, an
# enum, a view and a foreign key into `auth.users`, against a target
# loaded without them: each is one difference, named; the enum and the
# view that are the same are not; an enum label missing on the target is.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
pg_require
command -v jq >/dev/null 2>&1 || skip_all "jq is not installed"
pg_start src || exit 1
pg_start dst || exit 1
[ "$(pg_psql src "select count(*) from pg_available_extensions where name = 'pgcrypto'")" = 1 ] ||
	skip_all "the pgcrypto extension is not installed"
pg_psql src "
	create role anon nologin; create role authenticated nologin; create role service_role nologin;
	create schema auth; create table auth.users(id uuid primary key);
	create extension pgcrypto;
	create type mood as enum ('ok', 'sad');
	create table profiles(id uuid primary key references auth.users(id), mood mood, name text);
	alter table profiles enable row level security;
	create policy own_profile on profiles for select to authenticated using (name = current_user);
	grant select on profiles to anon;
	grant select, update on profiles to authenticated;
	create view profile_names as select name from profiles;"
pg_psql dst "
	create type mood as enum ('ok', 'sad');
	create table profiles(id uuid primary key, mood mood, name text);
	create view profile_names as select name from profiles;"

cfg="$PGC_TMP/pgcutover.json"
cat >"$cfg" <<JSON
{"runbook": "runbook.md", "source": "$PG_SRC_CONNINFO", "target": "$PG_DST_CONNINFO",
 "tables": [{"name": "profiles"}]}
JSON
printf '# Runbook\n\n## Phase 1\n\n- [ ] one\n' >"$PGC_TMP/runbook.md"
out=$("$PGCUTOVER" -c "$cfg" schema --json); rc=$?
is "$rc" 1 "a source with what the target lacks: exit 1"
diff_of() { printf '%s' "$out" | jq -r --arg k "$1" --arg n "$2" \
	'.differences[] | select(.kind == $k and .name == $n) | "\(.source) | \(.target)"'; }
is "$(diff_of row_security public.profiles)" "enabled | null" "row-level security enabled on the source only"
like "$(diff_of policies public.profiles.own_profile)" '^SELECT PERMISSIVE to authenticated using \(name = CURRENT_USER\) \| null$' \
	"the policy: command, roles and expression"
is "$(diff_of grants 'public.profiles to anon')" "SELECT | null" "the grant to anon"
is "$(diff_of grants 'public.profiles to authenticated')" "SELECT,UPDATE | null" "the grants to authenticated"
like "$(diff_of extensions pgcrypto)" '^[0-9.]+ \| null$' "the extension and its version"
is "$(diff_of roles anon)" "nologin | null" "role anon, named by a grant"
is "$(diff_of roles authenticated)" "nologin | null" "role authenticated, named by the policy and grants"
is "$(diff_of roles service_role)" "" "a role nothing names is not listed"
is "$(diff_of referenced_schemas auth)" "referenced by foreign keys | null" "the foreign key into auth (REFERENCES auth.users)"
is "$(printf '%s' "$out" | jq '[.differences[] | select(.kind == "enums" or .kind == "views")] | length')" 0 \
	"the same enum and view are no difference"
is "$(printf '%s' "$out" | jq -r '"\(.source.views) \(.target.views) \(.source.enums) \(.target.enums)"')" "1 1 1 1" \
	"views and enums counted on each side"
pg_psql dst "alter type mood add value 'happy'"
out=$("$PGCUTOVER" -c "$cfg" schema --json)
is "$(diff_of enums public.mood)" "ok, sad | ok, sad, happy" "an enum's labels differ"
txt=$("$PGCUTOVER" -c "$cfg" schema)
like "$txt" "policies" "the text report has the new kinds"
done_testing
