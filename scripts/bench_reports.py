#!/usr/bin/env python3
"""The report benchmark of `make bench`: generates a history (WAYMARK_BENCH_REPORT_CLICKS clicks,
default 10 million, 3 % converting, 90 days, 20 sources, 500 campaigns, spend) in the bench
instance, then times the 30-day dashboard and a one-campaign 30-day parameter drill-down through
nginx (p50/p99 of repeated requests), checks the dashboard's totals against the raw tables, and
writes var/bench/reports.json. WAYMARK_BENCH_REPORT_STEPS repeats the history into the same
workspace, timing after each step. Run by scripts/bench.sh."""
import http.client, json, os, ssl, subprocess, sys, time

env = os.environ
root, var = env["WAYMARK_ROOT"], env["WAYMARK_VAR"]
port = env["WAYMARK_HTTPS_PORT"]
binary = os.path.join(root, ".build", "release", "waymark")
db = open(os.path.join(var, "database.url")).read().strip()
clicks = int(env.get("WAYMARK_BENCH_REPORT_CLICKS", "10000000"))
repeats = int(env.get("WAYMARK_BENCH_REPORT_REPEATS", "10"))
# WAYMARK_BENCH_REPORT_STEPS=3: three times `clicks` into the same workspace, timed after each
# (the growth table: how the reports' times grow with the history).
steps = int(env.get("WAYMARK_BENCH_REPORT_STEPS", "1"))
ctx = ssl.create_default_context(cafile=os.path.join(var, "tls", "cert.pem"))


def sh(*args):
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("%s failed: %s" % (args[0], r.stderr.strip()[-2000:]))
    return r.stdout


def psql(sql):
    return sh("psql", db, "-Atc", sql).strip()


# One kept-alive HTTPS connection, as a browser keeps on the dashboard: the times are the
# request's, not a TLS handshake's.
connection = None


def get(path, token):
    global connection
    for attempt in (1, 2):
        if connection is None:
            connection = http.client.HTTPSConnection("localhost", int(port), context=ctx, timeout=60)
        started = time.monotonic()
        try:
            connection.request("GET", path, headers={"Authorization": "Bearer " + token})
            r = connection.getresponse()
            raw = r.read()
        except (http.client.HTTPException, OSError):
            connection.close()
            connection = None  # nginx closed an idle connection: once more on a new one
            if attempt == 2:
                raise
            continue
        if r.status != 200:
            sys.exit("GET %s: %d %s" % (path, r.status, raw[:300]))
        return json.loads(raw), (time.monotonic() - started) * 1000


def timed(path, token):
    times = []
    for _ in range(repeats):
        body, ms = get(path, token)
        times.append(ms)
    times.sort()
    return body, {"p50_ms": round(times[len(times) // 2], 1), "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 1)}


def generate(ws, step, stamp):
    """Adds `clicks` clicks (3 % converting) to the workspace and waits for the worker's folds."""
    print("generating %d clicks …" % clicks, flush=True)
    started = time.monotonic()
    out = sh("psql", db, "-At", "-v", "clicks=%d" % clicks, "-v", "ws=%s" % ws, "-v", "prefix=rb%ds%d" % (stamp, step),
             "-f", os.path.join(root, "bench", "report-history.sql"))
    campaign = out.strip().splitlines()[-1]
    generated = time.monotonic() - started
    print("generated in %.0f s" % generated, flush=True)
    # The worker folds the roll-ups' deltas every few seconds; time the reports once it has
    # (reports are exact either way: the deltas are read too).
    started = time.monotonic()
    while (psql("SELECT count(*) FROM click_rollup_deltas") != "0" or psql("SELECT count(*) FROM conversion_rollup_deltas") != "0"
           or psql("SELECT rollup_daily FROM workspaces WHERE id = %s" % ws) != "t"):
        if time.monotonic() - started > 900:
            sys.exit("the worker did not fold the roll-ups within 15 minutes")
        time.sleep(2)
    psql("ANALYZE click_rollups; ANALYZE click_rollups_daily; ANALYZE conversion_rollups_daily")
    print("roll-ups folded in %.0f s" % (time.monotonic() - started), flush=True)
    return campaign, generated


def measure(ws, campaign, token):
    """The dashboard and the drill-down, timed, and the dashboard's totals against the raw rows."""
    to = psql("SELECT (now() AT TIME ZONE 'UTC')::date")
    frm = psql("SELECT (now() AT TIME ZONE 'UTC')::date - 29")
    dashboard = "/api/v1/reports?from=%s&to=%s&tz=UTC&group_by=traffic_source&workspace_id=%s" % (frm, to, ws)
    drill = "/api/v1/reports?from=%s&to=%s&tz=UTC&group_by=param:zone&campaign_id=%s&workspace_id=%s" % (frm, to, campaign, ws)
    body, dash_t = timed(dashboard, token)
    _, drill_t = timed(drill, token)
    raw = psql("""SELECT (SELECT count(*) FROM clicks WHERE workspace_id = %s AND NOT is_bot
                            AND clicked_at >= '%s'::date AND clicked_at < '%s'::date + 1),
                         (SELECT count(*) FROM conversions WHERE workspace_id = %s AND status = 'approved'
                            AND clicked_at >= '%s'::date AND clicked_at < '%s'::date + 1)""" % (ws, frm, to, ws, frm, to)).split("|")
    match = body["totals"]["clicks"] == int(raw[0]) and body["totals"]["conversions"] == int(raw[1])
    print("dashboard, 30 days, by source:        p50 %7.1f ms  p99 %7.1f ms" % (dash_t["p50_ms"], dash_t["p99_ms"]))
    print("one campaign, 30 days, by parameter:  p50 %7.1f ms  p99 %7.1f ms" % (drill_t["p50_ms"], drill_t["p99_ms"]))
    print("dashboard clicks %d / conversions %d, raw %s / %s: %s" % (
        body["totals"]["clicks"], body["totals"]["conversions"], raw[0], raw[1], "equal" if match else "DIFFERENT"))
    return dash_t, drill_t, match


def main():
    stamp = int(time.time())
    email = "report-bench-%d@example.test" % stamp
    sh(binary, "user", "create", "--email", email, "--password", "bench-password-1", "--role", "owner")
    token = sh(binary, "token", "create", "--email", email, "--name", "bench").strip().splitlines()[-1]
    ws = psql("INSERT INTO workspaces (name, timezone, currency) VALUES ('Report bench %d', 'UTC', 'USD') RETURNING id" % stamp).splitlines()[0]
    growth = []
    ok = True
    for step in range(steps):
        campaign, generated = generate(ws, step, stamp)
        total = (step + 1) * clicks
        dash_t, drill_t, match = measure(ws, campaign, token)
        ok = ok and match
        growth.append({"clicks": total, "conversions": int(psql("SELECT count(*) FROM conversions WHERE workspace_id = %s" % ws)),
                       "generate_seconds": round(generated), "dashboard": dash_t, "parameter_drill_down": drill_t,
                       "totals_match_raw": match})
    if steps > 1:
        print("\nclicks in the workspace   dashboard p50   p99     drill-down p50   p99")
        for g in growth:
            print("%22d   %9.1f ms %6.1f ms %10.1f ms %6.1f ms" % (g["clicks"], g["dashboard"]["p50_ms"], g["dashboard"]["p99_ms"],
                                                             g["parameter_drill_down"]["p50_ms"], g["parameter_drill_down"]["p99_ms"]))
    os.makedirs(os.path.join(root, "var", "bench"), exist_ok=True)
    with open(os.path.join(root, "var", "bench", "reports.json"), "w") as f:
        json.dump(dict(growth[0], repeats=repeats, growth=growth), f, indent=2)
    print("written: var/bench/reports.json")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
