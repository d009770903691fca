#!/usr/bin/env python3
"""Several responders behind one nginx (run by Tests/HA/responders.sh on its own instance).

1. Spread: clicks from 60 visitors (distinct user agents), three each, reach every responder
   (the access log's $upstream_addr shows the two sockets and the TCP one).
2. Unique flag: exactly one unique click per visitor, as one responder gives, although the
   clicks went through three processes.
3. One request, two responders: the same FastCGI request (same nginx request id and time)
   sent to both sockets answers the same click id from each, and one click is stored.
4. kill -9 under load: 16 clients click for 9 s while the first socket's responder and then
   the TCP one are killed with SIGKILL; afterwards every click id a client saw in a 302 is
   stored exactly once, and at most the requests that got no 302 add clicks nobody saw.
Prints one line per check; exits non-zero on any failure.
"""
import argparse
import http.client
import os
import re
import signal
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
import urllib.parse

from harness import api, check, cli, psql
import harness

args = None


def set_up():
    suffix = os.urandom(4).hex()
    email = "responders-%s@example.test" % suffix
    cli("user", "create", "--email", email, "--password", "responders-" + suffix + "-pw", "--role", "owner")
    token = cli("token", "create", "--email", email, "--name", "responders")
    ws = api("POST", "/api/v1/workspaces", token, {"name": "Responders " + suffix, "timezone": "UTC", "currency": "USD"})
    source = api("POST", "/api/v1/traffic-sources", token, {"name": "Source " + suffix, "workspace_id": ws["id"], "cost_currency": "USD"})
    campaigns = []
    for name in ("spread", "pair", "load"):
        campaigns.append(api("POST", "/api/v1/campaigns", token, {
            "name": name, "traffic_source_id": source["id"], "destination_url": "https://offer.example/lp?s={clickid}"}))
    return campaigns


class Clicker:
    """Kept-alive plain-HTTP clicks through nginx; returns the click id of a 302, else None."""

    def __init__(self):
        u = urllib.parse.urlsplit(args.http)
        self.host, self.port = u.hostname, u.port
        self.conn = None

    def click(self, key, agent):
        for attempt in range(2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                self.conn.request("GET", "/c/%s?sub1=x" % key, headers={"User-Agent": agent})
                r = self.conn.getresponse()
                r.read()
                if r.status != 302:
                    return None, r.status
                return re.search(r"[?&]s=([A-Za-z0-9_-]+)", r.getheader("Location", "")).group(1), 302
            except (OSError, http.client.HTTPException):
                self.conn = None
                if attempt == 1:
                    return None, 0
        return None, 0


def upstreams_since(offset):
    with open(os.path.join(args.var, "log", "access.log"), "rb") as f:
        f.seek(offset)
        lines = f.read().decode("utf-8", "replace").splitlines()
    return [line.rsplit(" ", 1)[-1] for line in lines if '"GET /c/' in line]


def access_log_size():
    path = os.path.join(args.var, "log", "access.log")
    return os.path.getsize(path) if os.path.exists(path) else 0


def spread_and_unique(campaign):
    start = access_log_size()
    c = Clicker()
    seen = []
    for round_ in range(3):
        for v in range(60):
            cid, status = c.click(campaign["key"], "Mozilla/5.0 (visitor %d) Responders" % v)
            if cid:
                seen.append(cid)
    check("180 clicks from 60 visitors answered 302", len(seen) == 180, "%d" % len(seen))
    time.sleep(1.5)  # nginx writes its access log every second
    counts = {}
    for u in upstreams_since(start):
        counts[u] = counts.get(u, 0) + 1
    sockets = [u for u in counts if u.startswith("unix:")]
    check("every responder served clicks (access log: %s)" % ", ".join("%s %d" % (k.rsplit("/", 1)[-1], n) for k, n in sorted(counts.items())),
          len(sockets) == 2 and args.tcp in counts, repr(counts))
    stored, unique = psql("SELECT count(*), count(*) FILTER (WHERE is_unique) FROM clicks WHERE campaign_id = %d" % campaign["id"]).split("|")
    check("the unique flag: 60 of 180 clicks unique, as with one responder", (stored, unique) == ("180", "60"), "%s stored, %s unique" % (stored, unique))
    per_visitor = psql("SELECT count(DISTINCT user_agent) FROM clicks WHERE campaign_id = %d AND is_unique" % campaign["id"])
    check("one unique click per visitor", per_visitor == "60", per_visitor)


def fastcgi(address, params):
    """One FastCGI request (GET, no body) to a unix socket path; returns the stdout bytes."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(address)

    def record(kind, content):
        return struct.pack("!BBHHBx", 1, kind, 1, len(content), 0) + content

    def pair(name, value):
        n, v = name.encode(), value.encode()
        enc = lambda b: struct.pack("!B", len(b)) if len(b) < 128 else struct.pack("!I", len(b) | 0x80000000)
        return enc(n) + enc(v) + n + v

    body = b"".join(pair(k, v) for k, v in params.items())
    s.sendall(record(1, struct.pack("!HB5x", 1, 0)) + record(4, body) + record(4, b"") + record(5, b""))
    out, buf = b"", b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
        while len(buf) >= 8:
            _, kind, _, length, padding = struct.unpack("!BBHHB", buf[:7])
            if len(buf) < 8 + length + padding:
                break
            if kind == 6:
                out += buf[8:8 + length]
            buf = buf[8 + length + padding:]
            if kind == 3:
                s.close()
                return out
    s.close()
    return out


def one_request_two_responders(campaign):
    request_id = os.urandom(16).hex()
    params = {"REQUEST_METHOD": "GET", "REQUEST_URI": "/c/%s?sub1=pair" % campaign["key"], "SCRIPT_NAME": "/c/%s" % campaign["key"],
              "DOCUMENT_URI": "/c/%s" % campaign["key"], "QUERY_STRING": "sub1=pair", "REMOTE_ADDR": "198.51.100.7",
              "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_USER_AGENT": "Pair test", "REQUEST_ID": request_id, "REQUEST_MSEC": "%.3f" % time.time(),
              "HTTP_HOST": "localhost", "SERVER_PORT": "80"}
    ids = []
    for sock in ("waymark.sock", "waymark-2.sock"):
        out = fastcgi(os.path.join(args.var, "run", sock), params).decode("latin-1")
        m = re.search(r"Location: https://offer\.example/lp\?s=([A-Za-z0-9_-]+)", out)
        ids.append(m.group(1) if m else out[:200])
    check("one request sent to both responders gets one click id from each", ids[0] == ids[1], repr(ids))
    stored = psql("SELECT count(*) FROM clicks WHERE campaign_id = %d" % campaign["id"])
    check("and is stored once", stored == "1", stored)


def kill_under_load(campaign):
    seen, failed, lock = [], [], threading.Lock()
    stop = threading.Event()

    def client(n):
        c = Clicker()
        i = 0
        while not stop.is_set():
            cid, status = c.click(campaign["key"], "Mozilla/5.0 (load %d-%d)" % (n, i % 40))
            i += 1
            with lock:
                (seen.append(cid) if cid else failed.append(status))

    log_start = access_log_size()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    time.sleep(3)
    killed = []
    for pidfile in ("serve.pid", "serve-tcp.pid"):
        pid = int(open(os.path.join(args.var, "run", pidfile)).read().strip())
        os.kill(pid, signal.SIGKILL)
        killed.append(pidfile[:-4])
        time.sleep(3)
    time.sleep(3)
    stop.set()
    for t in threads:
        t.join()
    # Clicks spooled by a responder while it could not reach PostgreSQL are replayed within seconds.
    deadline = time.time() + 30
    while time.time() < deadline:
        stored = int(psql("SELECT count(*) FROM clicks WHERE campaign_id = %d" % campaign["id"]))
        if stored >= len(seen):
            break
        time.sleep(0.5)
    time.sleep(1.5)
    with open(os.path.join(args.var, "log", "access.log"), "rb") as f:
        f.seek(log_start)
        # nginx logs "first, second" as the upstream address of a request it resent.
        resent = sum(1 for line in f.read().decode("utf-8", "replace").splitlines() if '"GET /c/' in line and ", " in line.split('"')[-1])
    print("     %d clicks answered 302, %d requests without a 302, %d stored, %d resent by nginx to another responder; killed %s" % (
        len(seen), len(failed), stored, resent, " and ".join(killed)), flush=True)
    check("clients saw distinct click ids", len(set(seen)) == len(seen), "%d of %d" % (len(set(seen)), len(seen)))
    dupes = psql("SELECT count(*) FROM (SELECT id FROM clicks WHERE campaign_id = %d GROUP BY id HAVING count(*) > 1) d" % campaign["id"])
    check("no click stored twice", dupes == "0", dupes)
    stored_ids = set(psql("SELECT id FROM clicks WHERE campaign_id = %d" % campaign["id"]).split())
    found = sum(1 for i in seen if i in stored_ids)
    check("every click id answered in a 302 is stored", found == len(seen), "%d of %d" % (found, len(seen)))
    check("clicks nobody saw are at most the requests without a 302", stored - len(seen) <= len(failed),
          "%d stored, %d seen, %d failed" % (stored, len(seen), len(failed)))


def main():
    global args
    p = argparse.ArgumentParser()
    for name in ("var", "root", "tcp", "http", "https"):
        p.add_argument("--" + name, required=True)
    args = p.parse_args()
    # The URL (with its password) comes through the environment, never a command line.
    harness.configure(args.root, args.var, args.https, os.environ["WAYMARK_DATABASE_URL"])
    spread, pair, load = set_up()
    spread_and_unique(spread)
    one_request_two_responders(pair)
    kill_under_load(load)
    print("responders: %s" % ("all checks passed" if harness.failures == 0 else "%d checks failed" % harness.failures))
    return 1 if harness.failures else 0


if __name__ == "__main__":
    sys.exit(main())
