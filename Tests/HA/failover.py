#!/usr/bin/env python3
"""Failover under load (run by Tests/HA/failover.sh on its own instance, the stack on the
loopback Patroni cluster of scripts/ha.sh; the read-write URL in WAYMARK_DATABASE_URL).

Set-up through the CLI and the API: a workspace with a postback secret, a traffic source whose
S2S postback URL points at a listener of this script on 127.0.0.1, a campaign.

1. 8 clients click through nginx's plain HTTP port, each one click every ~20 ms with its own
   user agents, for ~40 s; every request's send time, latency, status and the click id of a
   302 are recorded.
2. After ~8 s, `scripts/ha.sh kill-primary` (kill -9 of the primary's postmaster). Patroni
   promotes the synchronous standby; the responders spool what they answer meanwhile and
   replay it by themselves.
3. Postbacks (with the secret) for clicks answered before the kill, sent before the kill and
   during the outage, and for clicks answered after it, sent once the new primary is up.
4. Once the clients stop: wait (60 s at most) until every click id seen in a 302 is stored and
   /healthz says ok with empty spools.

Checks: every click id seen in a 302 stored exactly once, no stored click nobody saw beyond the
requests that got no 302, each postback one conversion and one `recorded` ledger row, the S2S
postbacks of conversions made after the failover delivered within 30 s (and every conversion's
delivered in the end), /healthz ok. Figures: kill → first write on the new primary, the longest
click latency, clicks answered during the outage, requests without a 302. One line per check;
exits non-zero on any failure.
"""
import argparse
import http.client
import http.server
import json
import os
import re
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse

from harness import api, check, cli, psql, tls_context
import harness

args = None

CLIENTS = 8
INTERVAL = 0.020  # each client's pace
KILL_AFTER = 8.0  # seconds of load before the kill
LOAD_SECONDS = 40.0
SETTLE_SECONDS = 60  # bound on the wait for stored clicks and empty spools
DELIVERY_SECONDS = 30  # bound on a delivery after the failover


def figure(text):
    print("     " + text, flush=True)


def ha(*argv, timeout=90):
    return subprocess.run([os.path.join(args.root, "scripts", "ha.sh")] + list(argv), capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ))


# ---------------------------------------------------------------------------------------------
# The S2S postback listener (the "traffic source").

class Listener:
    def __init__(self, port):
        self.calls = []  # (time, query dict)
        self.lock = threading.Lock()
        listener = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                with listener.lock:
                    listener.calls.append((time.time(), query))
                body = b"ok"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def received(self):
        """txid → the times its S2S postback arrived."""
        with self.lock:
            out = {}
            for t, q in self.calls:
                out.setdefault(q.get("txid", ""), []).append(t)
            return out

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def set_up(listener_port):
    suffix = os.urandom(4).hex()
    email = "failover-%s@example.test" % suffix
    cli("user", "create", "--email", email, "--password", "failover-" + suffix + "-pw", "--role", "owner")
    token = cli("token", "create", "--email", email, "--name", "failover")
    secret = "fo-secret-" + os.urandom(8).hex()
    ws = api("POST", "/api/v1/workspaces", token, {"name": "Failover " + suffix, "timezone": "UTC", "currency": "USD", "postback_secret": secret})
    source = api("POST", "/api/v1/traffic-sources", token, {"name": "Source " + suffix, "workspace_id": ws["id"], "cost_currency": "USD"})
    # The conversion reporting method "S2S postback" of the source: its postback URL, every conversion sent.
    url = "http://127.0.0.1:%d/s2s?clickid={clickid}&txid={txid}&payout={payout}&status={status}" % listener_port
    source = api("PATCH", "/api/v1/traffic-sources/%d" % source["id"], token, {"postback": {"enabled": True, "url": url, "send": "all"}})
    campaign = api("POST", "/api/v1/campaigns", token, {
        "name": "failover", "traffic_source_id": source["id"], "destination_url": "https://offer.example/lp?s={clickid}"})
    check("set-up: workspace with a postback secret, source with an S2S postback URL, campaign",
          ws.get("has_postback_secret") is True and source["postback"]["enabled"] and source["postback"]["url"] == url,
          "workspace %r, source postback %r" % (ws, source.get("postback")))
    return campaign, secret


# ---------------------------------------------------------------------------------------------
# Clients.

class Clicker:
    """Kept-alive plain-HTTP requests through nginx. One attempt per request: a request that
    fails (connection error, timeout) is recorded as such, with status 0."""

    def __init__(self):
        u = urllib.parse.urlsplit(args.http)
        self.host, self.port = u.hostname, u.port
        self.conn = None

    def get(self, path, agent):
        sent = time.time()
        p0 = time.perf_counter()
        status, location, body = 0, "", b""
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            self.conn.request("GET", path, headers={"User-Agent": agent})
            r = self.conn.getresponse()
            body = r.read()
            status, location = r.status, r.getheader("Location", "")
            if r.will_close:
                self.conn.close()
                self.conn = None
        except (OSError, http.client.HTTPException):
            if self.conn is not None:
                self.conn.close()
            self.conn = None
        return sent, time.perf_counter() - p0, status, location, body

    def click(self, key, agent):
        sent, latency, status, location, _ = self.get("/c/%s?sub1=failover" % key, agent)
        cid = None
        if status == 302:
            m = re.search(r"[?&]s=([A-Za-z0-9_-]+)", location)
            cid = m.group(1) if m else None
        return sent, latency, status, cid


def healthz(agent):
    """(status, JSON) of GET /healthz over HTTPS; nginx sends one user agent to one responder."""
    u = urllib.parse.urlsplit(args.https)
    try:
        conn = http.client.HTTPSConnection(u.hostname, u.port, context=tls_context(), timeout=10)
        conn.request("GET", "/healthz", headers={"User-Agent": agent})
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return r.status, json.loads(data)
    except (OSError, http.client.HTTPException, ValueError):
        return 0, {}


HEALTH_AGENTS = ["Mozilla/5.0 (health %d) Failover" % n for n in range(12)]


def spool_files():
    """Spool files waiting on disk, in every responder's spool directory."""
    out = []
    for name in sorted(os.listdir(args.var)):
        path = os.path.join(args.var, name)
        if re.match(r"^spool(-\d+)?$", name) and os.path.isdir(path):
            out += ["%s/%s (%d bytes)" % (name, f, os.path.getsize(os.path.join(path, f))) for f in os.listdir(path) if ".spool" in f]
    return out


def all_healthy():
    answers = [healthz(a) for a in HEALTH_AGENTS]
    ok = all(s == 200 and h.get("status") == "ok" and h.get("click_spool_bytes") == 0 and h.get("postback_spool_bytes") == 0
             for s, h in answers)
    return ok, answers


def main():
    global args
    p = argparse.ArgumentParser()
    for name in ("var", "root", "http", "https"):
        p.add_argument("--" + name, required=True)
    p.add_argument("--listen", type=int, required=True)
    args = p.parse_args()
    harness.configure(args.root, args.var, args.https, os.environ["WAYMARK_DATABASE_URL"])

    listener = Listener(args.listen)
    campaign, secret = set_up(args.listen)
    cid_sql = campaign["id"]
    port, conns = psql("SELECT inet_server_port(), (SELECT count(*) FROM pg_stat_activity WHERE usename = current_user AND pid <> pg_backend_pid())").split("|")
    before_port = ha("primary").stdout.strip()
    check("the stack is on the HA cluster's primary (port %s): %s connections of the app there" % (port, conns),
          port == before_port and int(conns) > 0, "primary %s, psql reached %s, %s connections" % (before_port, port, conns))

    # MARK: load
    stop = threading.Event()
    records = [[] for _ in range(CLIENTS)]  # per client: (sent, latency, status, click id)

    def client(n):
        c = Clicker()
        i = 0
        next_at = time.time()
        while not stop.is_set():
            records[n].append(c.click(campaign["key"], "Mozilla/5.0 (X11; Linux x86_64; failover %d-%d) Waymark-HA" % (n, i)))
            i += 1
            next_at += INTERVAL
            now = time.time()
            if next_at > now:
                time.sleep(next_at - now)
            elif now - next_at > 0.1:
                next_at = now  # behind (a slow answer): no burst to catch up

    health_log = []  # (time, status, click bytes, postback bytes)

    def health_poller():
        n = 0
        while not stop.is_set():
            s, h = healthz(HEALTH_AGENTS[n % len(HEALTH_AGENTS)])
            health_log.append((time.time(), s, h.get("click_spool_bytes", 0), h.get("postback_spool_bytes", 0)))
            n += 1
            time.sleep(0.25)

    def all_records():
        return [r for rs in records for r in list(rs)]

    pb = Clicker()
    run = os.urandom(3).hex()
    postbacks = []  # dicts: phase, txid, click, sent, answered, status, outcome, tries
    used = set()

    def postback(phase, click_id):
        txid = "fo-%s-%s-%d" % (run, phase, len(postbacks))  # unique across runs: the ledger is checked by txid
        used.add(click_id)
        path = "/postback?" + urllib.parse.urlencode({"clickid": click_id, "payout": "1.5", "txid": txid, "secret": secret})
        tries = 0
        while True:
            tries += 1
            sent, latency, status, _, body = pb.get(path, "Failover postback sender")
            # 503 (or no answer): nothing was kept, or it is unknown: sent again, as a network would.
            if status not in (0, 503) or tries == 3:
                break
            time.sleep(1)
        try:
            outcome = json.loads(body).get("status", "")
        except ValueError:
            outcome = ""
        postbacks.append({"phase": phase, "txid": txid, "click": click_id, "sent": sent, "answered": sent + latency,
                          "status": status, "outcome": outcome, "tries": tries})

    def pick(n, answered_before=None, sent_after=None, sent_before=None, stored_only=False):
        pool = [r[3] for r in all_records() if r[3] and r[3] not in used
                and (answered_before is None or r[0] + r[1] < answered_before)
                and (sent_after is None or r[0] > sent_after) and (sent_before is None or r[0] < sent_before)]
        pool = pool[::max(1, len(pool) // (4 * n))][: 4 * n] if pool else []
        if stored_only and pool:
            stored = set(psql("SELECT id FROM clicks WHERE campaign_id = %d AND id IN (%s)"
                              % (cid_sql, ",".join("'%s'" % i for i in pool))).split())
            pool = [i for i in pool if i in stored]
        return pool[:n]

    def sleep_until(t):
        d = t - time.time()
        if d > 0:
            time.sleep(d)

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(CLIENTS)]
    start = time.time()
    for t in threads:
        t.start()
    hp = threading.Thread(target=health_poller, daemon=True)
    hp.start()

    # Postbacks before the kill.
    sleep_until(start + 3)
    for i, click_id in enumerate(pick(6)):
        sleep_until(start + 3 + i * 0.6)
        postback("before", click_id)
    outage_clicks = pick(6, answered_before=time.time())

    # MARK: the kill
    sleep_until(start + KILL_AFTER)
    kill_started = time.time()
    killed = ha("kill-primary")
    kill = time.time()  # the SIGKILL was sent before kill-primary returned: a conservative origin
    killed_port = killed.stdout.strip()
    check("scripts/ha.sh kill-primary killed the primary's postmaster (port %s)" % killed_port,
          killed.returncode == 0 and killed_port == before_port, killed.stderr.strip())

    # Who took writes again, and when: wait-primary (a committed write through the read-write
    # URL, tried every 0.2 s), and a poll every 100 ms for a click newer than the kill.
    promoted = {}

    def wait_primary():
        out = ha("wait-primary", "60")
        promoted["at"], promoted["port"], promoted["rc"] = time.time(), out.stdout.strip(), out.returncode

    # clicks has no commit time: what the new primary holds is polled instead. "first": a click
    # received after the kill is readable through the read-write URL (replayed from a spool or
    # committed directly); "live": one received less than a second before the poll's snapshot
    # is, i.e. clicks are committed as they come again.
    visible = {}

    def poll_new_clicks():
        deadline = kill + 60
        while time.time() < deadline and "live" not in visible:
            try:
                got = psql("SELECT coalesce(extract(epoch FROM min(clicked_at)), 0), coalesce(extract(epoch FROM max(clicked_at)), 0),"
                           " extract(epoch FROM now()) FROM clicks WHERE campaign_id = %d AND clicked_at > to_timestamp(%f)" % (cid_sql, kill), timeout=6)
                oldest, newest, now = (float(v) for v in got.split("|"))
                at = time.time()
                if newest > 0 and "first" not in visible:
                    visible["first"], visible["first_oldest"], visible["first_newest"] = at, oldest, newest
                if newest > now - 1.0:
                    visible["live"], visible["live_clicked"] = at, newest
                    break
            except (RuntimeError, subprocess.TimeoutExpired, ValueError):
                pass
            time.sleep(0.1)

    wp = threading.Thread(target=wait_primary, daemon=True)
    wp.start()
    pn = threading.Thread(target=poll_new_clicks, daemon=True)
    pn.start()

    # Postbacks during the outage, for clicks answered before the kill.
    for i, click_id in enumerate(outage_clicks):
        sleep_until(kill + 0.2 + i * 0.3)
        postback("outage", click_id)

    # Postbacks after the failover: for clicks answered in the first seconds after the kill
    # (most of them spooled) and for clicks answered well after it, once they are stored.
    sleep_until(kill + 12)
    after = pick(4, sent_after=kill, sent_before=kill + 3, stored_only=True) + pick(4, sent_after=kill + 8, stored_only=True)
    for i, click_id in enumerate(after):
        sleep_until(kill + 12 + i * 1.25)
        postback("after", click_id)

    sleep_until(start + LOAD_SECONDS)
    stop.set()
    for t in threads:
        t.join()
    hp.join()
    load_end = time.time()

    recs = all_records()
    seen = [r[3] for r in recs if r[3]]
    failed = [r for r in recs if not r[3]]

    # MARK: settle: every answered click stored, the spools empty
    deadline = time.time() + SETTLE_SECONDS
    stored_ids, healthy, answers = set(), False, []
    seen_set = set(seen)
    while True:
        stored_ids = set(psql("SELECT id FROM clicks WHERE campaign_id = %d" % cid_sql).split())
        if seen_set <= stored_ids:
            healthy, answers = all_healthy()
            if healthy and not spool_files():
                break
        if time.time() > deadline:
            break
        time.sleep(0.5)
    settled = time.time()
    wp.join()
    pn.join()

    # MARK: checks: clicks
    print("     %d requests: %d answered 302, %d without a 302 (%s); settled %.1f s after the load ended" % (
        len(recs), len(seen), len(failed), ", ".join("%d×%s" % (sum(1 for r in failed if r[2] == s), s or "no answer")
                                                   for s in sorted({r[2] for r in failed})) or "none", settled - load_end), flush=True)
    check("every request got a 302 (the responders spool while PostgreSQL is away)", not failed,
          "%d without a 302, first at kill%+.1f s" % (len(failed), min(r[0] for r in failed) - kill) if failed else "")
    check("clients saw distinct click ids", len(seen_set) == len(seen), "%d of %d" % (len(seen_set), len(seen)))
    missing = [i for i in seen if i not in stored_ids]
    check("every click id answered in a 302 is stored", not missing,
          "%d of %d missing, e.g. %s" % (len(missing), len(seen), ", ".join(missing[:3])))
    dupes = psql("SELECT count(*) FROM (SELECT id FROM clicks WHERE campaign_id = %d GROUP BY id HAVING count(*) > 1) d" % cid_sql)
    check("no click stored twice", dupes == "0", "%s ids stored more than once" % dupes)
    stored = int(psql("SELECT count(*) FROM clicks WHERE campaign_id = %d" % cid_sql))
    check("clicks nobody saw are at most the requests without a 302", stored - len(seen_set) <= len(failed),
          "%d stored, %d seen, %d without a 302" % (stored, len(seen_set), len(failed)))

    # MARK: checks: postbacks and conversions
    by_phase = {}
    for pbk in postbacks:
        by_phase.setdefault(pbk["phase"], []).append("%d %s" % (pbk["status"], pbk["outcome"]))
    print("     postbacks: %s; resent after a 503 or no answer: %d" % (
        "; ".join("%s %d (%s)" % (ph, len(v), ", ".join("%d×%s" % (v.count(a), a) for a in sorted(set(v)))) for ph, v in by_phase.items()),
        sum(pbk["tries"] - 1 for pbk in postbacks)), flush=True)
    bad = [pbk for pbk in postbacks if (pbk["status"], pbk["outcome"]) not in ((200, "recorded"), (202, "accepted"))]
    check("every postback answered 200 recorded or 202 accepted", not bad and len(by_phase.get("after", [])) >= 6 and len(postbacks) >= 16,
          "; ".join("%s %s: %d %s" % (b["phase"], b["txid"], b["status"], b["outcome"]) for b in bad) or "too few postbacks sent: %d" % len(postbacks))
    deadline = time.time() + 30  # a replayed postback is recorded once its responder's click spool is empty
    while True:
        rows = psql("SELECT txid, click_id, count(*) OVER (PARTITION BY txid) FROM conversions WHERE campaign_id = %d" % cid_sql)
        conv = {}
        for line in rows.splitlines():
            txid, click_id, n = line.split("|")
            conv[txid] = (click_id, int(n))
        if len(conv) >= len(postbacks) or time.time() > deadline:
            break
        time.sleep(0.5)
    wrong = [pbk["txid"] for pbk in postbacks if conv.get(pbk["txid"]) != (pbk["click"], 1)]
    extra = [t for t in conv if t not in {pbk["txid"] for pbk in postbacks}]
    check("each postback made exactly one conversion, on its click (%d conversions)" % len(conv), not wrong and not extra,
          "wrong or missing: %s; unexpected: %s" % (", ".join("%s→%s" % (t, conv.get(t)) for t in wrong[:5]), extra[:5]))
    txids = ",".join("'%s'" % pbk["txid"] for pbk in postbacks)
    ledger = psql("SELECT txid, string_agg(outcome, ',' ORDER BY id) FROM postbacks WHERE txid IN (%s) GROUP BY txid" % txids)
    ledger = dict(line.split("|") for line in ledger.splitlines())
    odd = {t: ledger.get(t) for t in (pbk["txid"] for pbk in postbacks) if ledger.get(t) != "recorded"}
    check("each postback is one 'recorded' row in the postback ledger", not odd,
          ", ".join("%s: %s" % (t, o) for t, o in list(odd.items())[:5]))

    # MARK: checks: deliveries
    after_pbs = [pbk for pbk in postbacks if pbk["phase"] == "after"]
    deadline = max([pbk["answered"] + DELIVERY_SECONDS for pbk in postbacks] + [time.time() + 5])
    while time.time() < deadline:
        got = listener.received()
        if all(pbk["txid"] in got for pbk in postbacks):
            break
        time.sleep(0.25)
    got = listener.received()
    late = []
    for pbk in after_pbs:
        times = got.get(pbk["txid"])
        if not times or min(times) - pbk["answered"] > DELIVERY_SECONDS:
            late.append("%s %s" % (pbk["txid"], "never" if not times else "%.1f s" % (min(times) - pbk["answered"])))
    delays = [min(got[pbk["txid"]]) - pbk["answered"] for pbk in after_pbs if pbk["txid"] in got]
    check("deliveries resumed: the S2S postback of each conversion made after the failover reached the listener within %d s (slowest %s)"
          % (DELIVERY_SECONDS, "%.2f s" % max(delays) if delays else "-"), after_pbs and not late, ", ".join(late) or "no postback after the failover")
    undelivered = [pbk["txid"] for pbk in postbacks if pbk["txid"] not in got]
    states = psql("SELECT d.state || ':' || count(*) FROM deliveries d JOIN conversions c ON c.id = d.conversion_id WHERE c.campaign_id = %d GROUP BY d.state ORDER BY 1" % cid_sql)
    check("every conversion's S2S postback was delivered (%d conversions; deliveries %s; %d sent more than once)"
          % (len(postbacks), states.replace("\n", ", "), sum(1 for pbk in postbacks if len(got.get(pbk["txid"], [])) > 1)),
          not undelivered and states == "delivered:%d" % len(postbacks), "not received: %s" % ", ".join(undelivered[:8]))

    # MARK: checks: health
    if not healthy:
        healthy, answers = all_healthy()
    files = spool_files()
    check("/healthz ok with empty spools (%d answers, user agents spread over the responders)" % len(answers), healthy and not files,
          "%s; spool files: %s" % (sorted({json.dumps(h, sort_keys=True) + " %d" % s for s, h in answers}), files or "none"))

    # MARK: checks: the failover itself, then the figures
    check("a new primary took writes (wait-primary: port %s; the killed one was %s)" % (promoted.get("port"), killed_port),
          promoted.get("rc") == 0 and promoted.get("port") not in ("", killed_port), repr(promoted))
    check("clicks received after the kill are committed on the new primary, and as they come (polled every 100 ms)",
          "first" in visible and "live" in visible, repr(visible))
    latencies = sorted(r[1] for r in recs)
    slowest = max(recs, key=lambda r: r[1])
    outage_end = visible.get("first", settled)
    during = [r for r in recs if r[3] and kill_started <= r[0] + r[1] and r[0] < outage_end]
    peak_click_spool = max([h[2] for h in health_log] + [0])
    peak_pb_spool = max([h[3] for h in health_log] + [0])

    def rel(t):
        return "%.2f s" % (t - kill) if t else "never"

    print("figures (times from the kill, i.e. when scripts/ha.sh kill-primary returned; it ran %.2f s):" % (kill - kill_started), flush=True)
    figure("new primary takes a write (scripts/ha.sh wait-primary, tried every 0.2 s): %s" % rel(promoted.get("at") if promoted.get("rc") == 0 else None))
    figure("first click received after the kill readable on the new primary: %s (those readable then were received from %s to %s)"
           % (rel(visible.get("first")), rel(visible.get("first_oldest")), rel(visible.get("first_newest"))))
    figure("clicks committed as they come again (one received < 1 s before the snapshot readable): %s (received at %s)"
           % (rel(visible.get("live")), rel(visible.get("live_clicked"))))
    figure("longest click latency: %.3f s (sent at kill%+.2f s); p50 %.1f ms, p99 %.1f ms, max before the kill %.1f ms" % (
        slowest[1], slowest[0] - kill, 1000 * latencies[len(latencies) // 2], 1000 * latencies[int(len(latencies) * 0.99)],
        1000 * max([r[1] for r in recs if r[0] + r[1] < kill_started] + [0])))
    figure("clicks answered during the outage (answered after the kill, sent before the first one was readable on the new primary): %d"
           % len(during))
    figure("peak spool seen by /healthz (every 0.25 s, one responder at a time): clicks %d bytes, postbacks %d bytes" % (peak_click_spool, peak_pb_spool))
    figure("requests without a 302: %d of %d (%d clients, one click each every %d ms, %.0f s)" % (
        len(failed), len(recs), CLIENTS, INTERVAL * 1000, load_end - start))
    listener.stop()
    print("failover: %s" % ("all checks passed" if harness.failures == 0 else "%d checks failed" % harness.failures), flush=True)
    return 1 if harness.failures else 0


if __name__ == "__main__":
    sys.exit(main())
