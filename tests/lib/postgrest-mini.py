#!/usr/bin/env python3
"""postgrest-mini.py -- a small PostgREST-compatible HTTP server, FOR TESTS ONLY.

It answers the requests pgcutover makes to count rows of a Supabase source
(HEAD or GET /rest/v1/<table>?select=*&limit=N with `Prefer: count=...`)
from a REAL PostgreSQL database, by running psql.  It behaves the way
PostgREST behind the Supabase gateway does in the points the client relies
on (see issue 5):

  * counts: exact = count(*); planned = the planner's row estimate (EXPLAIN,
    as PostgREST does); estimated = exact up to --max-rows, planned above;
  * Content-Range "0-0/N" (206 when rows are left out, else 200), "*/0" for
    an empty table, "0-0/*" when no count was asked; HEAD has no body and
    ignores Range (use limit);
  * auth: the key comes from the environment variable --key-env.  A missing
    or wrong `apikey` is a gateway 401 whose JSON body has message and hint
    but no code.  A Bearer token, when sent, must equal the key, and
    non-JWT keys (sb_...) are refused as Bearer tokens;
  * unknown table: 404 {"code":"PGRST205",...}; schema not exposed
    (Accept-Profile): 406 PGRST106;
  * --fail-table T answers 500 with a PostgREST-style body; --slow-table T
    sleeps --slow-seconds before answering (to hit client timeouts);
    --echo-key-table T answers 400 quoting the apikey it received;
    --flaky-table T answers 503 once (a retry then succeeds);
    --garbage-table T answers 200 with a Content-Range and a body that are
    not PostgREST's (control bytes, an escape sequence, not JSON).

It listens on 127.0.0.1 only, writes the chosen port to --port-file, logs
one line per request to --log (header names and whether auth was sent, never
the key), and exits by itself after --lifetime seconds or when its parent
process (the test) goes away.  Standard library only.
"""

import argparse
import difflib
import json
import os
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
    pass


class Database:
    """Runs SQL through psql; identifiers travel as psql variables (:'t')."""

    def __init__(self, psql, conninfo):
        self.psql = psql
        self.conninfo = conninfo

    def run(self, sql, **variables):
        cmd = [self.psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", self.conninfo]
        for name, value in variables.items():
            cmd += ["-v", "%s=%s" % (name, value)]
        try:
            p = subprocess.run(cmd, input=sql, capture_output=True, text=True,
                               timeout=PSQL_TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PsqlError(str(exc))
        if p.returncode != 0:
            raise PsqlError(p.stderr.strip())
        return p.stdout.strip()

    def probe(self, schema, table, exact, planned, limit, max_rows):
        """One psql run per request: does the table exist (else the names
        in the schema, for the hint), rows a GET would return, and the
        counts asked for.  Returns a dict (keys missing/tables/rows/exact/
        capped/planned)."""
        lim = "all" if limit is None else str(int(limit))
        sql = ["select exists(select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace"
               " where n.nspname = :'s' and c.relname = :'t'"
               " and c.relkind in ('r','p','v','m','f')) as found \\gset",
               "\\if :found",
               "select format($q$select 'rows=' || count(*) from (select 1 from %I.%I limit %s) x$q$,"
               " :'s', :'t', :'lim') \\gexec"]
        if exact:
            sql.append("select format($q$select 'exact=' || count(*) from %I.%I$q$, :'s', :'t') \\gexec")
        if max_rows:
            sql.append("select format($q$select 'capped=' || count(*) from (select 1 from %I.%I limit %s) x$q$,"
                       " :'s', :'t', :'cap') \\gexec")
        if planned:  # last: its JSON spans several lines
            sql.append("select format('explain (format json) select * from %I.%I', :'s', :'t') \\gexec")
        sql += ["\\else",
                "select 'missing=1';",
                "select 'table=' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
                " where n.nspname = :'s' and c.relkind in ('r','p','v','m','f') order by 1;",
                "\\endif", ""]
        out = self.run("\n".join(sql), s=schema, t=table, lim=lim, cap=str(max_rows + 1))
        res = {"tables": []}
        lines = out.splitlines()
        for i, line in enumerate(lines):
            if line.startswith("["):
                res["planned"] = int(json.loads("\n".join(lines[i:]))[0]["Plan"]["Plan Rows"])
                break
            k, _, v = line.partition("=")
            if k == "table":
                res["tables"].append(v)
            elif k:
                res[k] = int(v)
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
        line = "%s %s status=%d apikey=%s bearer=%s prefer=%s profile=%s\n" % (
            self.command, self.path, status,
            "present" if self.headers.get("apikey") is not None else "absent",
            "present" if auth is not None else "absent",
            self.headers.get("Prefer", "-"), self.headers.get("Accept-Profile", "-"))
        with self.server.log_lock, open(cfg.log, "a") as f:
            f.write(line)

    def send(self, status, body=None, headers=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD" and data:
            self.wfile.write(data)
        self.log_request_line(status)

    def pgrst_error(self, status, code, message, hint=None, details=None):
        self.send(status, {"code": code, "details": details, "hint": hint, "message": message})

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
        query = urllib.parse.parse_qs(url.query)
        schema = self.headers.get("Accept-Profile", cfg.schemas[0])
        if schema not in cfg.schemas:
            self.pgrst_error(406, "PGRST106", "Invalid schema: %s" % schema,
                             "Only the following schemas are exposed: %s" % ", ".join(cfg.schemas))
            return
        try:
            limit = int(query["limit"][0]) if "limit" in query else None
            if limit is not None and limit < 0:
                raise ValueError
            if cfg.max_rows and (limit is None or limit > cfg.max_rows):
                limit = cfg.max_rows
        except ValueError:
            self.pgrst_error(400, "PGRST103", "Requested range not satisfiable")
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
        try:
            res = self.server.db.probe(schema, table, exact=mode in ("exact", "estimated"),
                                       planned=mode in ("planned", "estimated"), limit=limit,
                                       max_rows=cfg.max_rows if mode == "estimated" else 0)
        except PsqlError as exc:
            self.pgrst_error(503, "PGRST000", "Could not connect with the database", None, str(exc))
            return
        if res.get("missing"):
            close = difflib.get_close_matches(table, res["tables"], n=1)
            hint = ("Perhaps you meant the table '%s.%s'" % (schema, close[0])) if close else None
            self.pgrst_error(404, "PGRST205",
                             "Could not find the table '%s.%s' in the schema cache" % (schema, table), hint)
            return
        rows = res["rows"]
        if mode == "exact":
            total = res["exact"]
        elif mode == "planned":
            total = res["planned"]
        elif mode == "estimated":
            # PostgREST: exact up to db-max-rows, the planner's figure above.
            capped = res.get("capped")
            total = capped if capped is not None and capped <= cfg.max_rows else res["planned"]
        else:
            total = None
        rng = "0-%d" % (rows - 1) if rows > 0 else "*"
        total_s = "*" if total is None else str(total)
        # PostgREST: 206 Partial Content when the count says rows were left out.
        status = 206 if total is not None and rows < total else 200
        # A GET returns the rows; counts need none, so columns are elided.
        body = [{} for _ in range(rows)] if self.command == "GET" else None
        self.send(status, body, {"Content-Range": "%s/%s" % (rng, total_s)})


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
    ap.add_argument("--max-rows", type=int, default=0, help="db-max-rows (0 = unlimited)")
    ap.add_argument("--fail-table", action="append", default=[])
    ap.add_argument("--slow-table", action="append", default=[])
    ap.add_argument("--garbage-table", action="append", default=[],
                    help="answer 200 with a Content-Range and body that are not PostgREST's")
    ap.add_argument("--slow-seconds", type=float, default=10.0)
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
    srv.db = Database(cfg.psql, cfg.conninfo)
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
