#!/bin/sh
# init_source.sh -- issue 15 item 5: `pgcutover init --source CONNINFO` on
# a real cluster takes the tables from the database's foreign keys,
# referenced tables first (a chain customers <- orders <- order_items, a
# table in another schema), names a reference cycle and puts it last; the
# runbook gives health checks from any item or block that curls a URL and
# its real switches (DB_DRIVER=RDS, DATABASE_URL=...) as flags, and no
# value (a password in a URL) is copied into the config.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/pg.sh"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed"
pg_require
pg_start src || exit 1
pg_psql src "
CREATE TABLE customers (id int PRIMARY KEY);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers);
CREATE TABLE order_items (id int PRIMARY KEY, order_id int REFERENCES orders);
CREATE SCHEMA billing;
CREATE TABLE billing.invoices (id int PRIMARY KEY, order_id int REFERENCES orders);
CREATE TABLE teams (id int PRIMARY KEY, lead_id int);
CREATE TABLE people (id int PRIMARY KEY, team_id int REFERENCES teams);
ALTER TABLE teams ADD FOREIGN KEY (lead_id) REFERENCES people;
CREATE TABLE audit_log (id int PRIMARY KEY, parent_id int REFERENCES audit_log);
" >/dev/null || exit 1

D=$PGC_TMP/proj
mkdir -p "$D"
cd "$D" || exit 1
cat > MIGRATION.md <<'MD'
# Shop: RDS to our own cluster

## Phase 4: Switch

### 4.1 Flip the driver

```bash
DB_DRIVER=RDS
DATABASE_URL=postgres://app:s3cret-pw@new-db.internal:5432/shop
systemctl restart shop
```

- [ ] Check the app answers: `curl -sf http://127.0.0.1:8080/healthz | jq .status`
- [ ] Readiness
  ```bash
  curl -fsS https://shop.internal/ready && echo ok
  ```
MD
out=$("$PGCUTOVER" init --json --source "$PG_SRC_CONNINFO" MIGRATION.md); rc=$?
is "$rc" 0 "init --source exits 0"
is "$(printf '%s' "$out" | jq -r .tables_from)" source "the tables come from the source"
order=$(jq -r '.tables | join(",")' pgcutover.json)
pos() { printf '%s\n' "$order" | tr ',' '\n' | grep -nx "$1" | cut -d: -f1; }
ok "$([ "$(pos customers)" -lt "$(pos orders)" ] && [ "$(pos orders)" -lt "$(pos order_items)" ]; echo $?)" \
   "the chain in dependency order: customers, orders, order_items ($order)"
ok "$([ "$(pos orders)" -lt "$(pos billing.invoices)" ]; echo $?)" "a table in another schema, schema-qualified, after what it references"
is "$(jq '.tables | length' pgcutover.json)" \
   "$(pg_psql src "select count(*) from pg_tables where schemaname not in ('pg_catalog','information_schema')")" \
   "every table of the source is declared"
is "$(printf '%s' "$out" | jq -r '.cycles | join(";")')" "people -> teams -> people" "the cycle is named"
ok "$([ "$(pos people)" -gt "$(pos order_items)" ] && [ "$(pos teams)" -gt "$(pos order_items)" ]; echo $?)" \
   "the tables in the cycle come last"
ok "$(printf '%s\n' "$order" | tr ',' '\n' | grep -qx audit_log; echo $?)" "a self-reference is no cycle"
is "$(jq -r '.flags | join(",")' pgcutover.json)" "DB_DRIVER,DATABASE_URL" \
   "the real switches are flags (DB_DRIVER=RDS, DATABASE_URL=...)"
ok "$(grep -q 's3cret' pgcutover.json; [ $? -ne 0 ]; echo $?)" "the URL's password is not copied"
is "$(jq -r '.health | join(",")' pgcutover.json)" "http://127.0.0.1:8080/healthz,https://shop.internal/ready" \
   "health checks from an item's inline curl and from a block's curl"
"$PGCUTOVER" -c pgcutover.json check MIGRATION.md >/dev/null; ok $? "the written config loads"

"$PGCUTOVER" init --force --source "host=$PGC_TMP/nowhere port=1 connect_timeout=2" MIGRATION.md >/dev/null 2>"$PGC_TMP/err"; rc=$?
is "$rc" 69 "an unreachable source: exit 69"
like "$(cat "$PGC_TMP/err")" "cannot connect to the source" "and says so"
done_testing
