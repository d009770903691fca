#!/usr/bin/env python3
"""`make bench` (README.md#benchmarks, issue 5): through the real nginx on loopback, alternating in one run,
nginx's own `return 302` (the ceiling), a minimal C libfcgi responder behind the same nginx with
the same thread count (the architecture's ceiling) and Waymark's `/c/{key}` with eight
parameters; at 16 and 64 connections, kept-alive over HTTP and with a new HTTPS connection per
request; then `/postback` for the clicks just made (each a new conversion). Prints a table,
writes var/bench/clicks.json, and checks that the clicks stored equal the 302s wrk saw and the
conversions stored the postbacks answered. Run by scripts/bench.sh, which starts the bench instance."""
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
import ssl

env = os.environ
root = env["WAYMARK_ROOT"]
var = env["WAYMARK_VAR"]
out_dir = os.path.join(root, "var", "bench")
duration = env.get("WAYMARK_BENCH_SECONDS", "8")
threads = int(env.get("WAYMARK_THREADS", "160"))
https_port = env["WAYMARK_HTTPS_PORT"]
http_port = env["WAYMARK_HTTP_PORT"]
ports = {"nginx_302": (28090, 28091), "c_responder": (28092, 28093)}
binary = os.path.join(root, ".build", "release", "waymark")


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, cwd=root, **kw).stdout


def api(method, path, token, body=None):
    ctx = ssl.create_default_context(cafile=os.path.join(var, "tls", "cert.pem"))
    req = urllib.request.Request("https://localhost:%s/api/v1%s" % (https_port, path), method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, context=ctx) as r:
        return json.loads(r.read())


def psql(sql):
    url = open(os.path.join(var, "database.url")).read().strip()
    return sh("psql", url, "-Atc", sql).strip()


def super_psql(sql):
    """As the cluster's superuser (pg_stat_statements is read across roles)."""
    pw = open(os.path.join(var, "postgres", "superuser.password")).read().strip()
    return subprocess.run(["psql", "-X", "-Atq", "-h", "127.0.0.1", "-p", env["WAYMARK_PG_PORT"], "-U", "postgres", "-d", "waymark",
                           "-F", "\t", "-c", sql], check=True, capture_output=True, text=True, env=dict(env, PGPASSWORD=pw)).stdout


# WAYMARK_BENCH_STATEMENTS=1: the cluster loads pg_stat_statements (scripts/bench.sh), and a
# measured run prints the statements its PostgreSQL time went to, per request.
statements_wanted = env.get("WAYMARK_BENCH_STATEMENTS") == "1"


def statements_reset():
    if statements_wanted:
        super_psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        super_psql("SELECT pg_stat_statements_reset()")


def statements_print(requests):
    if not statements_wanted or not requests:
        return
    rows = super_psql("SELECT calls, total_exec_time, total_plan_time, left(regexp_replace(query, '\\s+', ' ', 'g'), 110) "
                      "FROM pg_stat_statements ORDER BY total_exec_time + total_plan_time DESC LIMIT 12")
    print("  PostgreSQL statements per request (calls, µs executing, µs planning):")
    for line in rows.splitlines():
        calls, exec_ms, plan_ms, query = line.split("\t", 3)
        print("    %5.2f %7.1f %6.1f  %s" % (int(calls) / requests, float(exec_ms) * 1000 / requests,
                                          float(plan_ms) * 1000 / requests, query))


def start_profile(name, wanted):
    """A whole-system `perf` profile of the next run when `wanted`, var/bench/NAME.perf.data."""
    if not wanted:
        return None
    return subprocess.Popen(["perf", "record", "-a", "-g", "-e", "cpu-clock", "-o", os.path.join(out_dir, name + ".perf.data"),
                             "--", "sleep", str(duration)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wrk(url, connections, close):
    args = ["wrk", "-t2", "-c%d" % connections, "-d%ss" % duration, "--latency", url]
    if close:
        args[1:1] = ["-H", "Connection: close"]
    text = subprocess.run(args, capture_output=True, text=True).stdout
    def num(pattern, default=0.0):
        m = re.search(pattern, text)
        return float(m.group(1)) if m else default
    def ms(label):
        m = re.search(r"\s%s%%\s+([\d.]+)(us|ms|s)" % label, text)
        if not m:
            return None
        v = float(m.group(1))
        return round(v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v, 2)
    total = int(num(r"(\d+) requests in"))
    bad = int(num(r"Non-2xx or 3xx responses: (\d+)"))
    errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
    return {"rps": round(num(r"Requests/sec:\s+([\d.]+)")), "p50_ms": ms("50"), "p99_ms": ms("99"),
            "requests": total, "non_3xx": bad, "socket_errors": errors}


TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid, children):
    """CPU seconds of a process (user + system), with its reaped children's when asked."""
    try:
        text = open("/proc/%d/stat" % pid).read()
    except OSError:
        return 0.0
    f = text[text.rindex(")") + 2:].split()
    ticks = int(f[11]) + int(f[12]) + ((int(f[13]) + int(f[14])) if children else 0)
    return ticks / TICK


def process_tree(pid):
    """The process and its live children (a PostgreSQL postmaster's backends, nginx's workers)."""
    kids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                text = open("/proc/%s/stat" % name).read()
            except OSError:
                continue
            if int(text[text.rindex(")") + 2:].split()[1]) == pid:
                kids.append(int(name))
    return [pid] + kids


def read_pid(path):
    try:
        return int(open(path).read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def component_cpu():
    """CPU seconds so far of the responder, PostgreSQL (postmaster, backends, and those that
    ended) and nginx (master and workers): deltas over a run give µs of CPU per click."""
    out = {}
    for name, pidfile in [("responder", ("run", "serve.pid")), ("postgresql", ("postgres", "data", "postmaster.pid")),
                          ("nginx", ("nginx", "nginx.pid"))]:
        pid = read_pid(os.path.join(var, *pidfile))
        out[name] = sum(process_cpu(p, p == pid) for p in process_tree(pid)) if pid else None
    return out


def cpu_per_click(before, after, requests):
    return {k: (round((after[k] - before[k]) * 1e6 / requests, 1) if requests and before[k] is not None and after[k] is not None
                else None) for k in before}


def peak_memory_mb():
    pid = open(os.path.join(var, "run", "serve.pid")).read().strip()
    for line in open("/proc/%s/status" % pid):
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


def main():
    os.makedirs(out_dir, exist_ok=True)
    # A campaign on a Facebook-template source, and its URL with eight realistic parameters.
    email = "bench-%d@example.test" % int(time.time())
    sh(binary, "user", "create", "--email", email, "--password", "bench-password-1", "--role", "owner")
    token = sh(binary, "token", "create", "--email", email, "--name", "bench").strip().splitlines()[-1]
    source = api("POST", "/traffic-sources", token, {"template": "facebook", "name": "Bench Meta"})
    campaign = api("POST", "/campaigns", token, {"name": "Bench", "traffic_source_id": source["id"],
                   "destination_url": "https://offer.example/lp?sub={clickid}&c={campaign_id}&ad={ad_id}",
                   "cost_model": {"type": "cpc", "amount": "0.12"}})
    flow_campaign = flow_bench_campaign(token, source["id"])
    query = ("campaign_id=120210&adset_id=120211&ad_id=120212&campaign_name=Spring%20Sale&adset_name=US%2025-44"
             "&ad_name=Video%203&placement=Facebook_Mobile_Feed&site_source_name=fb&fbclid=IwAR0abc")
    targets = {
        "nginx_302": lambda tls: "%s://localhost:%d/" % (("https", ports["nginx_302"][1]) if tls else ("http", ports["nginx_302"][0])),
        "c_responder": lambda tls: "%s://localhost:%d/c/x" % (("https", ports["c_responder"][1]) if tls else ("http", ports["c_responder"][0])),
        "waymark": lambda tls: "%s://localhost:%s/c/%s?%s" % ("https" if tls else "http", https_port if tls else http_port, campaign["key"], query),
        "waymark_flow": lambda tls: "%s://localhost:%s/c/%s?%s" % ("https" if tls else "http", https_port if tls else http_port,
                                                                     flow_campaign["key"], query),
    }
    # Warm up each target once, then alternate them so load drift hits all alike.
    for name, url in targets.items():
        subprocess.run(["wrk", "-t1", "-c8", "-d2s", url(False)], capture_output=True)
    campaigns = "(%d, %d)" % (campaign["id"], flow_campaign["id"])
    before = int(psql("SELECT count(*) FROM clicks WHERE campaign_id IN %s" % campaigns))
    results = []
    waymark_302s = 0
    for mode in ("keepalive", "new_https_connection"):
        for connections in (16, 64):
            for name in ("nginx_302", "c_responder", "waymark", "waymark_flow"):
                tls = mode == "new_https_connection"
                # The plain campaign's first run (kept-alive, c=16) is the one profiled and whose
                # statements are printed, when asked for.
                first = name == "waymark" and not tls and connections == 16
                if first:
                    statements_reset()
                profile = start_profile("click", first and env.get("WAYMARK_BENCH_PROFILE_CLICKS") == "1")
                cpu_before = component_cpu()
                r = wrk(targets[name](tls), connections, close=tls)
                if profile:
                    profile.wait()
                if first:
                    statements_print(r["requests"])
                if name.startswith("waymark"):
                    r["cpu_us_per_click"] = cpu_per_click(cpu_before, component_cpu(), r["requests"])
                r.update({"target": name, "connections": connections, "mode": mode})
                results.append(r)
                if name.startswith("waymark"):
                    waymark_302s += r["requests"] - r["non_3xx"]
                print("  %-22s %-12s c=%-3d %8d req/s  p50 %6s ms  p99 %7s ms" % (mode, name, connections, r["rps"], r["p50_ms"], r["p99_ms"]), flush=True)
    time.sleep(1)
    stored = int(psql("SELECT count(*) FROM clicks WHERE campaign_id IN %s" % campaigns)) - before
    memory = peak_memory_mb()

    print()
    print("%-22s %4s %10s %10s %10s %9s %9s %9s %10s %9s" % ("mode", "conn", "nginx 302", "C resp.", "Waymark", "W÷C", "W÷nginx",
                                                           "W p99 ms", "flow", "flow÷W"))
    summary = []
    for mode in ("keepalive", "new_https_connection"):
        for connections in (16, 64):
            row = {r["target"]: r for r in results if r["mode"] == mode and r["connections"] == connections}
            w, c, n, f = row["waymark"], row["c_responder"], row["nginx_302"], row["waymark_flow"]
            ratio_c = round(w["rps"] / c["rps"], 2) if c["rps"] else None
            ratio_n = round(w["rps"] / n["rps"], 2) if n["rps"] else None
            ratio_f = round(f["rps"] / w["rps"], 2) if w["rps"] else None
            summary.append({"mode": mode, "connections": connections, "waymark_vs_c": ratio_c, "waymark_vs_nginx": ratio_n,
                            "flow_vs_waymark": ratio_f})
            print("%-22s %4d %10d %10d %10d %9s %9s %9s %10d %9s" % (mode, connections, n["rps"], c["rps"], w["rps"], ratio_c, ratio_n,
                                                                  w["p99_ms"], f["rps"], ratio_f))
    print()
    print("CPU per click (µs, from /proc/PID/stat deltas over each run; wrk's own excluded)")
    for r in results:
        if "cpu_us_per_click" in r:
            c = r["cpu_us_per_click"]
            print("  %-22s %-12s c=%-3d responder %6s  postgresql %6s  nginx %6s" % (r["mode"], r["target"], r["connections"],
                                                                                    c["responder"], c["postgresql"], c["nginx"]))
    # wrk does not count requests still in flight when a run ends, so a few more clicks can be
    # stored than it saw; a loss is a 302 without its click.
    lost = max(0, waymark_302s - stored)
    print()
    print("Waymark 302s seen by wrk: %d, clicks stored: %d, lost: %d" % (waymark_302s, stored, lost))
    print("responder peak memory (VmHWM): %s MB, %d threads" % (memory, threads))
    resumption = tls_resumption(campaign["key"], query)
    postback = postbacks(campaign["id"], results)
    report = {"duration_seconds": int(duration), "threads": threads, "results": results, "ratios": summary, "postback": postback,
              "tls_resumption": resumption,
              "waymark_302s": waymark_302s, "clicks_stored": stored, "clicks_lost": lost, "responder_peak_memory_mb": memory,
              "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    with open(os.path.join(out_dir, "clicks.json"), "w") as f:
        json.dump(report, f, indent=2)
    print("written: var/bench/clicks.json")
    return 0 if lost == 0 and postback["lost"] == 0 else 1


def tls_resumption(key, query):
    """A returning browser: one connection at a time (openssl s_time), each a full TLS handshake
    (`-new`) or resuming the first one's session (`-reuse`: a ticket, else the session cache),
    against nginx's own 302 and Waymark's click. Connections per second of wall time."""
    out = {}
    for name, port, path in (("nginx_302", ports["nginx_302"][1], "/"), ("waymark", https_port, "/c/%s?%s" % (key, query))):
        for mode in ("new", "reuse"):
            text = subprocess.run(["openssl", "s_time", "-connect", "localhost:%s" % port, "-www", path, "-" + mode, "-time", duration],
                                  capture_output=True, text=True).stdout
            m = re.search(r"(\d+) connections in (\d+) real seconds", text)
            out["%s_%s" % (name, mode)] = round(int(m.group(1)) / max(1, int(m.group(2)))) if m else None
    print()
    print("TLS, one connection at a time (openssl s_time), connections/s: nginx 302 new %s, resumed %s; Waymark new %s, resumed %s"
          % (out["nginx_302_new"], out["nginx_302_reuse"], out["waymark_new"], out["waymark_reuse"]))
    return out


def flow_bench_campaign(token, source_id):
    """A campaign on a flow of three paths (SPEC §9): a `param:` rule straight to an offer, a
    device rule to a lander, and a default 50/50 test of two landers over two weighted offers.
    wrk's requests (desktop, placement=Facebook_Mobile_Feed) fall through both rules, so every
    click runs the whole match."""
    offers = [api("POST", "/offers", token, {"name": "Bench offer %d" % i, "payout": "2.00",
                                             "url": "https://offer.example/o%d?sub={clickid}&ad={ad_id}&o={offer_id}" % i})["id"] for i in (1, 2)]
    landers = [api("POST", "/landers", token, {"name": "Bench lander %d" % i, "offers_count": 2,
                                               "url": "https://lander.example/l%d?c={clickid}&ad={ad_id}" % i})["id"] for i in (1, 2)]
    paths = [
        {"name": "Stories", "rules": [{"field": "param:placement", "op": "in", "values": ["Instagram_Stories", "Reels"]}],
         "landers": [], "offers": [{"offer_id": offers[0], "weight": 1}]},
        {"name": "Mobile", "rules": [{"field": "device", "op": "in", "values": ["mobile", "tablet"]}],
         "landers": [{"lander_id": landers[0], "weight": 1}], "offers": [{"offer_id": offers[1], "weight": 1}]},
        {"name": "Default", "rules": [], "landers": [{"lander_id": l, "weight": 50} for l in landers],
         "offers": [{"offer_id": offers[0], "weight": 70}, {"offer_id": offers[1], "weight": 30}]},
    ]
    flow = api("POST", "/flows", token, {"name": "Bench flow", "paths": paths})
    return api("POST", "/campaigns", token, {"name": "Bench flow", "traffic_source_id": source_id, "flow_id": flow["id"],
                                             "cost_model": {"type": "cpc", "amount": "0.12"}})


def postbacks(campaign_id, results):
    """`GET /postback` kept-alive at 16 connections over the clicks just stored, each with its own
    txid (so each records a conversion: the click lookup, the upsert, the ledger, the outbox)."""
    ids = psql("SELECT id FROM clicks WHERE campaign_id = %d LIMIT 20000" % campaign_id).split()
    script = os.path.join(out_dir, "postback.lua")
    with open(script, "w") as f:
        f.write("local ids = {%s}\n" % ",".join('"%s"' % i for i in ids))
        # Each wrk thread gets its own tag from setup, so txids never repeat across threads.
        f.write("local n = 0\nlocal threads = 0\n")
        f.write('function setup(thread) threads = threads + 1; thread:set("tag", threads .. "x" .. os.time()) end\n')
        f.write('function request()\n  n = n + 1\n  return wrk.format("GET", "/postback?clickid=" .. ids[(n % #ids) + 1] .. "&payout=1.50&txid=b" .. tag .. "-" .. n)\nend\n')
    before = int(psql("SELECT count(*) FROM conversions WHERE campaign_id = %d" % campaign_id))
    args = ["wrk", "-t2", "-c16", "-d%ss" % duration, "--latency", "-s", script, "http://localhost:%s/postback" % http_port]
    statements_reset()
    profile = start_profile("postback", env.get("WAYMARK_BENCH_PROFILE_POSTBACKS") == "1")
    cpu_before = component_cpu()
    text = subprocess.run(args, capture_output=True, text=True).stdout
    cpu_after = component_cpu()
    if profile:
        profile.wait()
    total = int((re.search(r"(\d+) requests in", text) or [0, 0])[1])
    bad = int((re.search(r"Non-2xx or 3xx responses: (\d+)", text) or [0, 0])[1])
    rps = round(float((re.search(r"Requests/sec:\s+([\d.]+)", text) or [0, 0])[1]))
    def ms(label):
        m = re.search(r"\s%s%%\s+([\d.]+)(us|ms|s)" % label, text)
        return None if not m else round(float(m.group(1)) / 1000 if m.group(2) == "us" else float(m.group(1)) * 1000 if m.group(2) == "s" else float(m.group(1)), 2)
    time.sleep(1)
    stored = int(psql("SELECT count(*) FROM conversions WHERE campaign_id = %d" % campaign_id)) - before
    # The target: half of Waymark's own click rate in the same run (SPEC §8 / issue 19).
    clicks = next(r["rps"] for r in results if r["target"] == "waymark" and r["mode"] == "keepalive" and r["connections"] == 16)
    answered = total - bad
    out = {"rps": rps, "p50_ms": ms("50"), "p99_ms": ms("99"), "answered": answered, "non_2xx": bad, "conversions_stored": stored,
           "lost": max(0, answered - stored), "vs_waymark_clicks": round(rps / clicks, 3) if clicks else None,
           "cpu_us_per_postback": cpu_per_click(cpu_before, cpu_after, total)}
    print()
    print("postback, keep-alive, c=16: %d req/s  p50 %s ms  p99 %s ms  (÷ Waymark clicks c=16: %s); answered %d, conversions stored %d, non-2xx %d"
          % (rps, out["p50_ms"], out["p99_ms"], out["vs_waymark_clicks"], answered, stored, bad))
    c = out["cpu_us_per_postback"]
    print("  CPU per postback (µs): " + "  ".join("%s %6.1f" % (k, v) for k, v in c.items() if v is not None))
    statements_print(total)
    return out


if __name__ == "__main__":
    sys.exit(main())
