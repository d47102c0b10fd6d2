#!/usr/bin/env python3
"""Writes the seed corpus tests/fuzz/corpus/<name>/ for the fuzz targets:
a few well-formed inputs per target and, for each, the damaged encodings
files arrive with (invalid UTF-8, UTF-16 with a BOM, a UTF-8 BOM,
double-encoded mojibake, CRLF, NULs, a last line without a newline, cut
short).  Run from anywhere; it rewrites only the files it names, so seeds
libFuzzer minimised into the directory by hand stay."""
import hashlib
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))


def damaged(data):
    text = data.decode("utf-8", errors="replace")
    out = {"plain": data}
    out["crlf"] = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    out["no-final-newline"] = data.rstrip(b"\r\n")
    out["utf8-bom"] = b"\xef\xbb\xbf" + data
    out["utf16le-bom"] = b"\xff\xfe" + text.encode("utf-16-le")
    out["utf16be-bom"] = b"\xfe\xff" + text.encode("utf-16-be")
    out["mojibake"] = data.decode("cp1252", errors="ignore").encode("utf-8")
    mid = len(data) // 2
    out["invalid-utf8"] = data[:mid] + b"\xff\xc3(\xe2\x82" + data[mid:]
    out["nul"] = data[:mid] + b"\0" + data[mid:]
    out["truncated"] = data[:mid]
    return out


def write(name, label, data):
    d = os.path.join(HERE, "corpus", name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, label), "wb") as f:
        f.write(data)


def seed(name, label, data, damage=True):
    if not damage:
        write(name, label, data)
        return
    for kind, variant in damaged(data).items():
        write(name, "%s-%s" % (label, kind), variant)


def read(path):
    with open(os.path.join(TOP, path), "rb") as f:
        return f.read()


# ---- runbook ----
for p in ("tests/fixtures/runbooks/small.md", "tests/fixtures/runbooks/unnumbered.md",
          "tests/fixtures/runbooks/mojibake.md", "tests/fixtures/config/shop-runbook.md"):
    seed("runbook", os.path.basename(p)[:-3], read(p))
seed("runbook", "booking", read("examples/booking-runbook.md")[:8000])
seed("runbook", "schedule", b"# T\n\n## Phase 1: Cutover (2 hours)\n\n### Stop (01:00, 5 min)\n"
     b"- [ ] stop\n  ```bash\n  FEATURE_NEW_DB=true\n  ```\n### Window (02:00-06:00)\n"
     b"- [~] go\n---\n**Checkpoint:** done\n<!-- - [ ] old -->\nEvery 2 hours: logs\n")

# ---- config ----
seed("config", "example", read("examples/pgcutover.json"))
seed("config", "minimal", b'{"runbook": "r.md"}\n')
seed("config", "tables", json.dumps({
    "runbook": "r.md", "target": "service=x",
    "source": {"postgres": "service=y"},
    "tables": ["public.a", {"name": "\"Odd.Name\"", "pk": "id"}, "b"],
    "flags": ["A"], "health": [{"name": "h", "url": "http://127.0.0.1:1/", "expect_body": "ok"}],
    "gates": ["1"], "point_of_no_return": "1.2", "command_timeout": 5}, indent=1).encode())

# ---- rest: Content-Range line, key line, selector byte, body ----
KEY = b"eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZSJ9.c2lnbmF0dXJl"
bodies = [
    b'{"code":"42P01","details":null,"hint":null,"message":"relation \\"public.x\\" does not exist"}',
    b'{"code":"PGRST205","details":{"key":"' + KEY + b'"},"hint":"Perhaps you meant the table \'public.y\'","message":"Could not find the table"}',
    b'{"msg":"Invalid API key ' + KEY + b'","error":"unauthorized"}',
    b"<html><body>502 Bad Gateway\x1b]0;owned\x07</body></html>",
    b'{"message":"\\u001b[31mred\\u009b2J"}',
    b"",
]
ranges = [b"0-0/3573", b"*/0", b"0-24/*", b"items 0-0/12", b"0-0/99999999999999999999", b" 5-9/10 \r"]
for i, (r, b) in enumerate(zip(ranges, bodies)):
    seed("rest", "reply%d" % i, r + b"\n" + KEY + b"\n" + bytes([i * 9]) + b)

# ---- jsonl: exported event lines, hashed as state.c does ----
def canon_str(s):
    if s is None:
        return "null"
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def event_lines():
    prev = "0" * 64
    events = [
        ("state_created", None, None, '{"version":1}'),
        ("runbook_loaded", None, None, '{"sha256":"' + "ab" * 32 + '","items":[["1.1","0123456789abcdef"]]}'),
        ("tick", "1", "1.1", '{"hash":"0123456789abcdef","note":"caf\\u00e9 ok"}'),
        ("note", "1", None, '{"text":"two\\nlines"}'),
        ("command_end", "1", "1.1", '{"exit":0,"output":"done ***"}\n'),
    ]
    lines = []
    for i, (kind, phase, item, payload) in enumerate(events, 1):
        ts_us = 1765000000000000 + i * 1234567
        ts = "%d.%06d" % divmod(ts_us, 1000000)
        canon = ("pgcutover-event-v1\n" + '{"id":%d,"ts":"%s","operator":%s,"host":%s,"pid":%d,"kind":%s,'
                 '"phase":%s,"item":%s,"payload":%s,"prev_hash":%s}') % (
            i, ts, canon_str("ops"), canon_str("db-1"), 4242, canon_str(kind), canon_str(phase),
            canon_str(item), canon_str(payload), canon_str(prev))
        h = hashlib.sha256(canon.encode()).hexdigest()
        line = ('{"id":%d,"ts":%s,"time":"2025-12-06T05:46:40.000Z","operator":"ops","host":"db-1",'
                '"pid":4242,"kind":%s,"phase":%s,"item":%s,"prev_hash":"%s","hash":"%s",') % (
            i, ts, json.dumps(kind), json.dumps(phase), json.dumps(item), prev, h)
        if "\n" in payload:
            line += '"payload_text":' + json.dumps(payload) + "}"
        else:
            line += '"payload":' + payload + "}"
        lines.append(line.encode() + b"\n")
        prev = h
    return lines


for i, line in enumerate(event_lines()):
    seed("jsonl", "event%d" % (i + 1), line)

# ---- canonical: id, ts, pid, null bits, then length-prefixed strings ----
def canon_input(id_, ts, pid, nulls, strings):
    b = struct.pack("<qdiB", id_, ts, pid, nulls)
    for s in strings:
        b += bytes([len(s)]) + s
    return b


H = b"ab" * 32
seed("canonical", "tick", canon_input(3, 1765000001.25, 4242, 0,
     [b"ops", b"db-1", b"tick", b"1", b"1.1", b'{"hash":"x"}', H]), damage=False)
seed("canonical", "nulls", canon_input(1, 0.0, 1, 7, [b"o", b"h", b"state_created", b"", b"", b"", b"0" * 64]),
     damage=False)
seed("canonical", "escapes", canon_input(-7, -1.5e-6, -1, 2,
     [b'a"b\\c', b"\x01\x1f\x7f", b"k\n", b"\xc3\xa9", b"", b"{}\r\n", b""]), damage=False)
seed("canonical", "far-time", canon_input(2**62, 9.007e9, 2**31 - 1, 0, [b"x"] * 7), damage=False)
