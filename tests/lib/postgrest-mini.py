#!/usr/bin/env python3
"""postgrest-mini.py -- a small PostgREST-compatible HTTP server, FOR TESTS ONLY.

It answers the reads pgcutover makes of a Supabase source from a REAL
PostgreSQL database, by running psql (one psql run per request): counts
(HEAD or GET /rest/v1/<table>?select=*&limit=N with `Prefer: count=...`)
and data pages (GET with select, order, filters and a Range).  It behaves
the way PostgREST 12 behind the Supabase gateway does in the points the
client relies on (issues 5 and 14):

  * counts: exact = count(*); planned = the planner's row estimate (EXPLAIN,
    as PostgREST does); estimated = exact up to --max-rows, above it the
    larger of that and the planner's figure.  Counts are of the filtered
    rows, as PostgREST's;
  * select: col, col::type, alias:col, alias:col::type, "quoted col", *;
    order: col[.asc|.desc][.nullsfirst|.nullslast],...; filters col=[not.]op.value
    with op eq, neq, gt, gte, lt, lte (the value is a text literal the column's
    type takes) or is (null, not_null, true, false, unknown); or=(...) and=(...)
    not.or=(...) not.and=(...) trees of those, nested and(...)/or(...)/not.and(...),
    values optionally double-quoted with \" and \\ escapes.  Other operators,
    embedded resources and JSON paths are a 400 PGRST100;
  * body: PostgreSQL renders it, `coalesce(json_agg(_t), '[]')` over
    `SELECT <cols> FROM <schema>.<table> WHERE .. ORDER BY .. LIMIT .. OFFSET ..`,
    sent byte for byte as psql printed it;
  * ranges: the Range header "a-b" or "a-" (GET only; Range-Unit is not
    needed; other forms are ignored) intersected with limit/offset; limit=0
    gives no rows.  --max-rows caps every answer at that many rows;
  * Content-Range "<first>-<last>/<total>", first-last being the rows
    returned, "*" instead when none were or the total is 0; total "*"
    when no count was asked.  206 when a count was asked and fewer rows than
    it came back, 416 PGRST103 when the offset is past it, else 200.  HEAD
    has no body;
  * errors: PostgreSQL's own (SQLSTATE as code, its message, detail and
    hint; 400 for most, e.g. 42703 unknown column, 22P02 bad value, 42704
    unknown cast type), 400 PGRST103 for an empty range, 400 PGRST100 for
    what does not parse;
  * auth: the key comes from the environment variable --key-env.  A missing
    or wrong `apikey` is a gateway 401 whose JSON body has message and hint
    but no code.  A Bearer token, when sent, must equal the key, and
    non-JWT keys (sb_...) are refused as Bearer tokens;
  * unknown table: 404 {"code":"PGRST205",...}; schema not exposed
    (Accept-Profile): 406 PGRST106;
  * --session-timezone TZ: the sessions' TimeZone (PGTZ), so timestamptz
    renders as on a project configured with that zone;
  * --fail-table T answers 500 with a PostgREST-style body; --slow-table T
    sleeps --slow-seconds before answering (to hit client timeouts);
    --echo-key-table T answers 400 quoting the apikey it received;
    --flaky-table T answers 503 once (a retry then succeeds);
    --no-filter-table T drops every filter of a request for T (select, order,
    limit and offset kept), as a broken gateway might;
    --garbage-table T answers 200 with a Content-Range and a body that are
    not PostgREST's (control bytes, an escape sequence, not JSON).

It listens on 127.0.0.1 only, writes the chosen port to --port-file, logs
one line per request to --log (method, path, status, whether auth was sent,
Prefer, Range and Accept-Profile, never the key), and exits by itself after --lifetime seconds or when its parent
process (the test) goes away.  Standard library only.
"""

import argparse
import difflib
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PARENT_CHECK_S = 0.5
PSQL_TIMEOUT_S = 60


def is_jwt(key):
    parts = key.split(".")
    ok_chars = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=")
    return len(parts) == 3 and all(p and set(p) <= ok_chars for p in parts)


class PsqlError(Exception):
    """psql could not run or reach the server (no SQLSTATE)."""


class PgError(Exception):
    """An error reported by PostgreSQL, with its SQLSTATE."""

    def __init__(self, code, message, details=None, hint=None):
        Exception.__init__(self, message)
        self.code, self.message, self.details, self.hint = code, message, details, hint


class ApiError(Exception):
    """A PostgREST error answer (status + JSON body)."""

    def __init__(self, status, code, message, details=None, hint=None):
        Exception.__init__(self, message)
        self.status, self.code, self.message, self.details, self.hint = \
            status, code, message, details, hint


def pg_error_status(code):
    """The HTTP status PostgREST gives a PostgreSQL error (its pgErrorStatus,
    the cases a read can meet)."""
    if code in ("42883", "42P01"):
        return 404
    if code == "42501":
        return 403
    for prefix, status in (("08", 503), ("53", 503), ("54", 413), ("0L", 403), ("0P", 403),
                           ("28", 403), ("25", 500), ("40", 500), ("55", 500), ("57", 500),
                           ("58", 500), ("XX", 500), ("F0", 500), ("HV", 500)):
        if code.startswith(prefix):
            return status
    return 400


def parse_pg_error(stderr):
    """psql's stderr with VERBOSITY=verbose -> PgError, or None when the
    failure did not come from the server (no SQLSTATE)."""
    err = {}
    for line in stderr.splitlines():
        m = re.search(r"\b(ERROR|FATAL):  ([0-9A-Z]{5}): (.*)$", line)
        if m and "message" not in err:
            err["code"], err["message"] = m.group(2), m.group(3)
            continue
        for key, tag in (("details", "DETAIL:  "), ("hint", "HINT:  ")):
            if line.startswith(tag) and key not in err and "message" in err:
                err[key] = line[len(tag):]
    if "code" not in err:
        return None
    return PgError(err["code"], err["message"], err.get("details"), err.get("hint"))


class Database:
    """Runs SQL through psql.  Identifiers and values never enter the SQL
    text: they travel as psql variables, interpolated by psql as quoted
    identifiers (:"v") or quoted literals (:'v')."""

    def __init__(self, psql, conninfo, timezone=None):
        self.psql = psql
        self.conninfo = conninfo
        self.env = dict(os.environ, PGCLIENTENCODING="UTF8")
        if timezone:
            self.env["PGTZ"] = timezone  # libpq sends it as the session TimeZone

    def run(self, sql, variables):
        """One psql invocation; returns stdout as bytes."""
        cmd = [self.psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
               "-v", "VERBOSITY=verbose", "-d", self.conninfo]
        for name, value in variables.items():
            cmd += ["-v", "%s=%s" % (name, value)]
        try:
            p = subprocess.run(cmd, input=sql.encode(), capture_output=True,
                               timeout=PSQL_TIMEOUT_S, env=self.env)
        except ValueError as exc:  # a NUL byte in a value
            raise ApiError(400, "22021", "invalid byte sequence: %s" % exc)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PsqlError(str(exc))
        if p.returncode != 0:
            stderr = p.stderr.decode("utf-8", "replace").strip()
            err = parse_pg_error(stderr)
            if err is not None and err.code[:2] not in ("08", "28", "3D"):
                raise err
            raise PsqlError(stderr)
        return p.stdout


# -- request parsing -------------------------------------------------------
# PostgREST's query grammar, the part a paging client uses: select with
# casts and aliases, order, horizontal filters, and/or logic trees.

FILTER_OPS = {"eq": "=", "neq": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
IS_VALUES = {"null": "NULL", "not_null": "NOT NULL", "true": "TRUE", "false": "FALSE",
             "unknown": "UNKNOWN"}
RESERVED_PARAMS = {"select", "order", "limit", "offset", "or", "and", "not.or", "not.and",
                   "columns", "on_conflict"}


def parse_error(what, text, details=None):
    return ApiError(400, "PGRST100", '"failed to parse %s (%s)"' % (what, text), details)


def read_quoted(s, i):
    """s[i] is '"': the quoted string (\\" and \\\\ escapes) and the index after it."""
    out = []
    i += 1
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            out.append(s[i + 1])
            i += 2
        elif c == '"':
            return "".join(out), i + 1
        else:
            out.append(c)
            i += 1
    raise ValueError("unterminated quoted string")


def read_name(s, i, stops):
    """A field name at s[i]: quoted, or up to one of the stop characters."""
    if i < len(s) and s[i] == '"':
        return read_quoted(s, i)
    j = i
    while j < len(s) and s[j] not in stops:
        j += 1
    return s[i:j], j


def split_top(s, sep=","):
    """Splits on sep outside double quotes and parentheses."""
    parts, cur, depth, i = [], [], 0, 0
    while i < len(s):
        c = s[i]
        if c == '"':
            _, j = read_quoted(s, i)
            cur.append(s[i:j])
            i = j
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        if c == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur))
    return parts


class Sql:
    """Collects the psql variables of one request."""

    def __init__(self, schema, table):
        self.vars = {"s": schema, "t": table}
        self.types = []  # cast types, resolved through regtype

    def _var(self, prefix, value):
        name = "%s%d" % (prefix, len(self.vars))
        self.vars[name] = value
        return name

    def ident(self, name):
        return ':"%s"' % self._var("i", name)

    def lit(self, value):
        return ":'%s'" % self._var("l", value)

    def col(self, name):
        return ':"s".:"t".%s' % self.ident(name)

    def cast_type(self, typename):
        """A psql variable that will hold the type's regtype name (set by
        the first statement, from the literal): ':ty3'."""
        var = "ty%d" % len(self.types)
        self.types.append((var, self.lit(typename)))
        return ":" + var


def parse_select(sql, text):
    if text is None or text.strip() == "*":
        return [':"s".:"t".*']
    cols = []
    for item in split_top(text):
        item = item.strip()
        if item == "*":
            cols.append(':"s".:"t".*')
            continue
        if not item:
            continue
        try:
            first, i = read_name(item, 0, ":")
            alias = None
            if item.startswith(":", i) and not item.startswith("::", i):
                alias = first
                first, i = read_name(item, i + 1, ":")
            cast = None
            if item.startswith("::", i):
                cast = item[i + 2:]
                i = len(item)
            if i != len(item) or not first or "(" in first or "->" in first or \
                    (cast is not None and not re.match(r"^[A-Za-z_][A-Za-z0-9_ ]*$", cast)):
                raise ValueError(item)
        except ValueError:
            raise parse_error("select parameter", text,
                              "postgrest-mini: only columns, alias:column and column::type")
        ref = sql.col(first)
        if cast is not None:
            ref = "CAST(%s AS %s)" % (ref, sql.cast_type(cast.strip()))
        cols.append("%s AS %s" % (ref, sql.ident(alias if alias is not None else first)))
    return cols


def parse_order(sql, text):
    terms = []
    for term in split_top(text):
        try:
            name, i = read_name(term, 0, ".")
            mods = term[i + 1:].split(".") if i < len(term) else []
            if not name or (i < len(term) and term[i] != "."):
                raise ValueError(term)
        except ValueError:
            raise parse_error("order", text)
        sql_term = sql.col(name)
        for m in mods:
            if m in ("asc", "desc"):
                sql_term += " " + m.upper()
            elif m in ("nullsfirst", "nullslast"):
                sql_term += " NULLS " + m[5:].upper()
            else:
                raise parse_error("order", text, "unknown modifier '%s'" % m)
        terms.append(sql_term)
    return terms


def op_sql(sql, column, opexpr, whole):
    """'[not.]op.value' on a column -> SQL.  The value is a text literal
    that PostgreSQL coerces to the column's type, as PostgREST sends it."""
    negate = False
    if opexpr.startswith("not."):
        negate, opexpr = True, opexpr[4:]
    op, dot, value = opexpr.partition(".")
    if not dot:
        raise parse_error("filter", whole)
    if op in FILTER_OPS:
        cond = "%s %s %s" % (sql.col(column), FILTER_OPS[op], sql.lit(value))
    elif op == "is" and value.lower() in IS_VALUES:
        cond = "%s IS %s" % (sql.col(column), IS_VALUES[value.lower()])
    else:
        raise parse_error("filter", whole,
                          "postgrest-mini: operators eq, neq, gt, gte, lt, lte, is")
    return "NOT (%s)" % cond if negate else cond


def parse_logic(sql, key, text):
    """or=(a.gt.1,and(a.eq.1,b.gt.x)) -> SQL; values may be double-quoted."""
    def tree(op, i):
        # text[i] == '('
        conds = []
        i += 1
        while True:
            cond, i = item(i)
            conds.append(cond)
            if i >= len(text):
                raise ValueError("missing )")
            if text[i] == ",":
                i += 1
                continue
            if text[i] == ")":
                return "(" + (" %s " % op.upper()).join(conds) + ")", i + 1
            raise ValueError("unexpected %r" % text[i])

    def item(i):
        for prefix, op, neg in (("and(", "and", False), ("or(", "or", False),
                                ("not.and(", "and", True), ("not.or(", "or", True)):
            if text.startswith(prefix, i):
                cond, j = tree(op, i + len(prefix) - 1)
                return ("NOT " + cond if neg else cond), j
        name, i = read_name(text, i, ".,()")
        if not name or not text.startswith(".", i):
            raise ValueError("a filter needs column.operator.value")
        i += 1
        opstart = i
        parts = []
        while True:  # operator, maybe not.operator
            j = text.find(".", i)
            if j < 0:
                raise ValueError("a filter needs column.operator.value")
            parts.append(text[i:j])
            i = j + 1
            if parts[-1] != "not" or len(parts) > 1:
                break
        if i < len(text) and text[i] == '"':
            value, i = read_quoted(text, i)
        else:
            j = i
            while j < len(text) and text[j] not in ",)":
                j += 1
            value, i = text[i:j], j
        return op_sql(sql, name, ".".join(parts) + "." + value,
                      text[opstart:i]), i

    negate = key.startswith("not.")
    op = key[4:] if negate else key
    try:
        if not text.startswith("("):
            raise ValueError("a logic tree starts with (")
        cond, i = tree(op, 0)
        if i != len(text):
            raise ValueError("text after the closing )")
    except ValueError as exc:
        raise parse_error("logic tree", text, str(exc))
    return "NOT " + cond if negate else cond


def parse_range(headers, query, method):
    """PostgREST's ranges: the Range header (GET only, 'a-b' or 'a-') met
    with limit/offset.  Returns (offset, limit or None)."""
    lower, upper = 0, None
    rng = headers.get("Range") if method == "GET" else None
    header_empty = False
    if rng:
        m = re.match(r"^([0-9]+)-([0-9]*)$", rng.strip())
        if m:  # anything else is ignored, as by PostgREST
            lower = int(m.group(1))
            upper = int(m.group(2)) if m.group(2) else None
            header_empty = upper is not None and upper < lower
    try:
        offset = int(query["offset"]) if "offset" in query else 0
        limit = int(query["limit"]) if "limit" in query else None
        if offset < 0:
            raise ValueError
    except ValueError:
        raise ApiError(400, "PGRST103", "Requested range not satisfiable",
                       "Limit and offset must be integers (postgrest-mini).")
    if limit == 0:
        return 0, 0  # PostgREST's limit-zero range, whatever the header says
    lower = max(lower, offset)
    if limit is not None:
        upper = offset + limit - 1 if upper is None else min(upper, offset + limit - 1)
    if upper is not None and upper < lower:
        raise ApiError(400, "PGRST103", "Requested range not satisfiable",
                       "The lower boundary must be lower than or equal to the upper boundary "
                       "in the Range header." if header_empty else
                       "Limit should be greater than or equal to zero.")
    return lower, None if upper is None else upper - lower + 1


def read_rows(db, schema, table, method, params, headers, mode, max_rows):
    """One psql run: does the table exist (else its schema's table names,
    for the hint), the rows (GET: rendered by json_agg, as PostgREST does;
    HEAD: only how many), and the count asked for.  Returns a dict with
    missing/tables, or offset/returned/body/total."""
    query = {}
    filters = []
    sql = Sql(schema, table)
    for k, v in params:
        if k in ("select", "order", "limit", "offset"):
            query[k] = v
        elif k in ("or", "and", "not.or", "not.and"):
            filters.append(parse_logic(sql, k, v))
        elif k in RESERVED_PARAMS:
            continue
        else:
            name = read_quoted(k, 0)[0] if k.startswith('"') and k.endswith('"') else k
            filters.append(op_sql(sql, name, v, v))
    cols = parse_select(sql, query.get("select"))
    order = parse_order(sql, query["order"]) if query.get("order") else []
    offset, limit = parse_range(headers, query, method)
    if max_rows and (limit is None or limit > max_rows):
        limit = max_rows  # db-max-rows caps every answer
    where = (" WHERE " + " AND ".join(filters)) if filters else ""
    source = ':"s".:"t"' + where
    inner = "SELECT %s FROM %s%s LIMIT %s OFFSET %d" % (
        ", ".join(cols), source, (" ORDER BY " + ", ".join(order)) if order else "",
        "ALL" if limit is None else "%d" % limit, offset)

    script = ["select exists(select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace"
              " where n.nspname = :'s' and c.relname = :'t'"
              " and c.relkind in ('r','p','v','m','f')) as found \\gset",
              "\\if :found"]
    if sql.types:
        script.append("select " + ", ".join("%s::regtype as %s" % (lit, var)
                                             for var, lit in sql.types) + " \\gset")
        # (the types are now psql variables holding regtype's quoted names)
    if mode in ("exact", "estimated"):
        cap = " LIMIT %d" % (max_rows + 1) if mode == "estimated" and max_rows else ""
        script += ["\\echo @@count",
                   "SELECT count(*) FROM (SELECT 1 FROM %s%s) _c;" % (source, cap)]
    if mode in ("planned", "estimated"):
        script += ["\\echo @@plan", "EXPLAIN (FORMAT JSON) SELECT 1 FROM %s;" % source]
    script.append("\\echo @@rows")
    if method == "HEAD":
        script.append("SELECT count(*) FROM (%s) _t;" % inner)
    else:
        script.append("SELECT count(*) || E'\\n' || coalesce(json_agg(_t), '[]') FROM (%s) _t;"
                      % inner)
    script += ["\\else", "\\echo @@missing",
               "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
               " where n.nspname = :'s' and c.relkind in ('r','p','v','m','f') order by 1;",
               "\\endif", ""]
    out = db.run("\n".join(script), sql.vars)

    if out.startswith(b"@@missing\n"):
        return {"missing": True,
                "tables": out[len(b"@@missing\n"):].decode("utf-8", "replace").split("\n")}
    head, _, rows = out.partition(b"@@rows\n")
    count_s, _, body = rows.partition(b"\n")
    res = {"offset": offset, "returned": int(count_s)}
    if method != "HEAD":
        res["body"] = body[:-1] if body.endswith(b"\n") else body
    sections = {}
    for part in head.decode().split("@@")[1:]:
        name, _, text = part.partition("\n")
        sections[name] = text
    total = None
    if "count" in sections:
        total = int(sections["count"].strip())
    if "plan" in sections:
        planned = int(json.loads(sections["plan"])[0]["Plan"]["Plan Rows"])
        if mode == "planned":
            total = planned
        elif not max_rows or total > max_rows:
            # PostgREST: exact up to db-max-rows, else the planner's figure
            # (never below what was counted).
            total = max(total, planned)
    res["total"] = total
    return res


class Handler(BaseHTTPRequestHandler):
    server_version = "postgrest-mini"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    # -- plumbing --------------------------------------------------------
    def log_message(self, fmt, *args):
        pass  # requests are logged by log_request_line, without secrets

    def log_request_line(self, status):
        cfg = self.server.cfg
        if not cfg.log:
            return
        auth = self.headers.get("Authorization")
        line = "%s %s status=%d apikey=%s bearer=%s prefer=%s range=%s profile=%s\n" % (
            self.command, self.path, status,
            "present" if self.headers.get("apikey") is not None else "absent",
            "present" if auth is not None else "absent",
            self.headers.get("Prefer", "-"), self.headers.get("Range", "-"),
            self.headers.get("Accept-Profile", "-"))
        with self.server.log_lock, open(cfg.log, "a") as f:
            f.write(line)

    def send(self, status, body=None, headers=None, raw=None):
        """body: a value to serialise; raw: bytes sent as they are (rows
        rendered by PostgreSQL)."""
        data = raw if raw is not None else b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD" and data:
            self.wfile.write(data)
        self.log_request_line(status)

    def pgrst_error(self, status, code, message, hint=None, details=None, headers=None):
        self.send(status, {"code": code, "details": details, "hint": hint, "message": message},
                  headers)

    # -- requests --------------------------------------------------------
    def do_HEAD(self):
        self.handle_read()

    def do_GET(self):
        self.handle_read()

    def auth_ok(self):
        """Gateway behaviour: 401 bodies with message and hint, no code."""
        key = self.server.key
        apikey = self.headers.get("apikey")
        if apikey is None:
            self.send(401, {"message": "No API key found in request",
                            "hint": "No `apikey` request header or url param was found."})
            return False
        if apikey != key:
            self.send(401, {"message": "Invalid API key",
                            "hint": "Double check your Supabase `anon` or `service_role` API key."})
            return False
        auth = self.headers.get("Authorization")
        if auth is not None:
            token = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
            if not is_jwt(token):
                # What the gateway says to an sb_ key (or junk) sent as a JWT.
                self.send(401, {"message": "Invalid JWT: the Authorization header is not a JWT",
                                "hint": "New API keys (sb_...) belong in the apikey header only."})
                return False
            if token != key:
                self.pgrst_error(401, "PGRST301", "JWSError JWSInvalidSignature")
                return False
        return True

    def handle_read(self):
        cfg = self.server.cfg
        url = urllib.parse.urlsplit(self.path)
        prefix = "/rest/v1/"
        if not url.path.startswith(prefix) or len(url.path) == len(prefix):
            self.send(404, {"message": "no Route matched with those values"})
            return
        if not self.auth_ok():
            return
        table = urllib.parse.unquote(url.path[len(prefix):])
        params = urllib.parse.parse_qsl(url.query, keep_blank_values=True)
        if table in cfg.no_filter_table:
            # a broken gateway: drops every filter (pages never move on)
            params = [(k, v) for k, v in params if k in ("select", "order", "limit", "offset")]
        schema = self.headers.get("Accept-Profile", cfg.schemas[0])
        if schema not in cfg.schemas:
            self.pgrst_error(406, "PGRST106", "Invalid schema: %s" % schema,
                             "Only the following schemas are exposed: %s" % ", ".join(cfg.schemas))
            return
        if table in cfg.slow_table:
            time.sleep(cfg.slow_seconds)
        if table in cfg.flaky_table:
            with self.server.log_lock:
                first = table not in self.server.flaked
                self.server.flaked.add(table)
            if first:
                self.pgrst_error(503, "PGRST000", "Could not connect with the database",
                                 None, "postgrest-mini --flaky-table")
                return
        if table in cfg.echo_key_table:
            got = self.headers.get("apikey", "")
            self.pgrst_error(400, "PGRST100", "rejected apikey %s for this table" % got,
                             None, "apikey=%s" % got)
            return
        if table in cfg.fail_table:
            self.pgrst_error(500, "XX000", "internal error (postgrest-mini --fail-table)")
            return
        if table in cfg.garbage_table:
            # a broken proxy: a 200 whose Content-Range and body are not
            # PostgREST's, with control bytes and an escape in them
            body = b"\x00\x1b]0;pwned\x07<html>\xff\xfe not json"
            self.send_response(200)
            self.send_header("Content-Range", "bananas/\x1b[2J")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            return
        mode = None
        for part in self.headers.get("Prefer", "").split(","):
            part = part.strip()
            if part.startswith("count="):
                mode = part[len("count="):]
        if mode not in ("exact", "planned", "estimated"):
            mode = None
        try:
            res = read_rows(self.server.db, schema, table, self.command, params, self.headers,
                            mode, cfg.max_rows)
        except ApiError as exc:
            self.pgrst_error(exc.status, exc.code, exc.message, exc.hint, exc.details)
            return
        except PgError as exc:
            self.pgrst_error(pg_error_status(exc.code), exc.code, exc.message, exc.hint,
                             exc.details)
            return
        except PsqlError as exc:
            self.pgrst_error(503, "PGRST000", "Could not connect with the database", None, str(exc))
            return
        if res.get("missing"):
            close = difflib.get_close_matches(table, res["tables"], n=1)
            hint = ("Perhaps you meant the table '%s.%s'" % (schema, close[0])) if close else None
            self.pgrst_error(404, "PGRST205",
                             "Could not find the table '%s.%s' in the schema cache" % (schema, table), hint)
            return
        # PostgREST's rangeStatusHeader: the range is offset..offset+returned-1
        # ("*" when nothing was returned or the total is 0), the total the
        # count asked for ("*" when none); 416 when the offset is past the
        # total, 206 when fewer rows than the total came back, else 200.
        lower, returned, total = res["offset"], res["returned"], res["total"]
        upper = lower + returned - 1
        rng = "%d-%d" % (lower, upper) if total != 0 and lower <= upper else "*"
        crange = "%s/%s" % (rng, "*" if total is None else total)
        if total is not None and lower > total:
            self.pgrst_error(416, "PGRST103", "Requested range not satisfiable", None,
                             "An offset of %d was requested, but there are only %d rows."
                             % (lower, total), headers={"Content-Range": crange})
            return
        status = 206 if total is not None and returned < total else 200
        self.send(status, raw=res.get("body"), headers={"Content-Range": crange})


def watch_parent(parent, deadline):
    """Exits when the test that started us is gone, or at the deadline."""
    while True:
        if time.monotonic() > deadline:
            os._exit(0)
        if parent > 1:
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:
                pass
        time.sleep(PARENT_CHECK_S)


def main():
    ap = argparse.ArgumentParser(description="PostgREST-compatible test server (tests only)")
    ap.add_argument("--conninfo", required=True, help="libpq conninfo of the real database")
    ap.add_argument("--psql", default="psql")
    ap.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    ap.add_argument("--port-file", help="write the port here once listening")
    ap.add_argument("--key-env", default="SUPABASE_KEY", help="environment variable holding the key")
    ap.add_argument("--schemas", default="public", help="exposed schemas, comma-separated")
    ap.add_argument("--max-rows", type=int, default=0,
                    help="db-max-rows: at most this many rows per answer, and the threshold "
                         "of count=estimated (0 = unlimited)")
    ap.add_argument("--session-timezone", metavar="TZ",
                    help="TimeZone of the database sessions (PGTZ), e.g. Asia/Tokyo: "
                         "timestamptz values render in it (default: the server's)")
    ap.add_argument("--fail-table", action="append", default=[])
    ap.add_argument("--slow-table", action="append", default=[])
    ap.add_argument("--garbage-table", action="append", default=[],
                    help="answer 200 with a Content-Range and body that are not PostgREST's")
    ap.add_argument("--slow-seconds", type=float, default=10.0)
    ap.add_argument("--no-filter-table", action="append", default=[],
                    help="drop every filter of requests for this table (a broken gateway)")
    ap.add_argument("--flaky-table", action="append", default=[],
                    help="answer the first request for this table 503, then normally")
    ap.add_argument("--echo-key-table", action="append", default=[],
                    help="answer 400 with the received apikey in message and details "
                         "(a careless proxy), to test that the client masks it")
    ap.add_argument("--log", help="append one line per request (no secrets)")
    ap.add_argument("--lifetime", type=float, default=300.0, help="exit after this many seconds")
    ap.add_argument("--parent-pid", type=int, default=0,
                    help="exit when this process ends (default: the parent at start)")
    cfg = ap.parse_args()
    cfg.schemas = [s.strip() for s in cfg.schemas.split(",") if s.strip()]

    key = os.environ.get(cfg.key_env)
    if not key:
        print("postgrest-mini: environment variable %s is not set" % cfg.key_env, file=sys.stderr)
        return 2

    srv = ThreadingHTTPServer(("127.0.0.1", cfg.port), Handler)
    srv.daemon_threads = True
    srv.cfg = cfg
    srv.key = key
    srv.db = Database(cfg.psql, cfg.conninfo, cfg.session_timezone)
    srv.log_lock = threading.Lock()
    srv.flaked = set()
    port = srv.server_address[1]

    # Interpreter wrappers (pyenv shims) can outlive or precede the test's
    # shell, so the test passes its pid; getppid() is only the fallback.
    parent = cfg.parent_pid or os.getppid()
    threading.Thread(target=watch_parent, args=(parent, time.monotonic() + cfg.lifetime),
                     daemon=True).start()
    if cfg.port_file:
        tmp = cfg.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, cfg.port_file)
    print("postgrest-mini listening on 127.0.0.1:%d" % port, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
