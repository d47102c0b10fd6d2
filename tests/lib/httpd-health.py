#!/usr/bin/env python3
"""httpd-health.py -- a health endpoint for the health tests, on loopback.

Usage: httpd-health.py PORTFILE
Listens on 127.0.0.1 on a free port and writes the port to PORTFILE once it
accepts connections.  Paths:
  /ok     200, body "status: healthy"
  /fail   500, body "status: broken"
  /hang   accepts and never answers (the client's timeout must fire)
  /slow   200 after 0.3 s
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
        elif self.path == "/slow":
            time.sleep(0.3)
            self.reply(200, b"status: healthy\n")
        else:
            self.reply(404, b"no such check\n")

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
