#!/usr/bin/env python3
"""httpd-health.py -- a health endpoint for the health tests, on loopback.

Usage: httpd-health.py PORTFILE [HOOKFILE]
Listens on 127.0.0.1 on a free port and writes the port to PORTFILE once it
accepts connections.  Paths:
  /ok     200, body "status: healthy"
  /fail   500, body "status: broken"
  /hang   accepts and never answers (the client's timeout must fire)
  /slow   200 after 0.3 s
  /garbage  bytes that are not HTTP (NUL, an escape sequence), then close
  /file/NAME  200 while a file NAME is beside PORTFILE, 503 when not (a
          check the test turns on and off)
POST (a webhook, for the notification tests; bodies go to HOOKFILE, one a
line, with the path in front):
  /hook/...    200
  /flaky/...   500 for the first two requests, then 200
Exits when its parent test kills it (or after an hour, whichever first).
"""
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HANG_SECONDS = 3600


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/ok":
            self.reply(200, b"status: healthy\n")
        elif self.path == "/fail":
            self.reply(500, b"status: broken\n")
        elif self.path == "/hang":
            time.sleep(HANG_SECONDS)
        elif self.path == "/garbage":
            self.wfile.write(b"\x00\x1b]0;pwned\x07SSH-2.0-not-http \xff\xfe\r\n\r\n")
            self.close_connection = True
        elif self.path.startswith("/file/"):
            import os
            name = os.path.basename(self.path[len("/file/"):])
            if name and os.path.exists(os.path.join(os.path.dirname(os.path.abspath(sys.argv[1])), name)):
                self.reply(200, b"status: healthy\n")
            else:
                self.reply(503, b"status: down\n")
        elif self.path == "/slow":
            time.sleep(0.3)
            self.reply(200, b"status: healthy\n")
        else:
            self.reply(404, b"no such check\n")

    flaky_left = 2
    lock = threading.Lock()

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode("utf-8", "replace")
        with Handler.lock:
            if self.path.startswith("/flaky/") and Handler.flaky_left > 0:
                Handler.flaky_left -= 1
                self.reply(500, b"try later\n")
                return
            if not (self.path.startswith("/hook/") or self.path.startswith("/flaky/")):
                self.reply(404, b"no such hook\n")
                return
            if len(sys.argv) > 2:
                with open(sys.argv[2], "a") as f:
                    f.write("%s %s %s\n" % (self.path, self.headers.get("Content-Type", ""), body))
        self.reply(200, b"ok\n")

    def reply(self, code, body):
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    port = srv.server_address[1]
    tmp = sys.argv[1] + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    import os
    os.rename(tmp, sys.argv[1])
    threading.Timer(HANG_SECONDS, srv.shutdown).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
