#!/usr/bin/env python3
"""Report exactness property test (issue 19), run by `make test` against the test instance.

Generates a history in fresh workspaces (zones with DST and half-hour offsets, several
currencies with FX rates, cost models, a flow with landers and offers, late conversions and
status changes, spend at source and campaign level, live clicks and postbacks through nginx,
clicks and postbacks spooled during a PostgreSQL outage), then runs random report queries
through nginx and compares every row and the totals with a brute force over the raw rows,
computed here in Python from SPEC section 5 and docs/reports.md.

Every query names one of the generated workspaces, sources, campaigns or the flow: a query
without any of these would also count Public sources, whose data belongs to other tests.

`WAYMARK_PROPERTY_SEED=N` replays a run: the same history and queries, placed relative to the
clock as before (and new ids, so a replay never collides with the run it replays).
`WAYMARK_PROPERTY_QUERIES=N` changes the number of queries (200). Only the environment that
scripts/test.sh exports is read."""
import base64, collections, datetime as dt, decimal, fractions, json, os, random, ssl, subprocess, sys, time
import urllib.error, urllib.parse, urllib.request
from zoneinfo import ZoneInfo

Fraction = fractions.Fraction
ENV = os.environ
ROOT = ENV["WAYMARK_ROOT"]
DB = ENV["WAYMARK_DATABASE_URL"]
BASE = ENV["WAYMARK_TEST_BASE_URL"]
HTTP = ENV["WAYMARK_TEST_HTTP_URL"]
SCRIPTS = ENV["WAYMARK_TEST_SCRIPTS"]
BINARY = os.path.join(ROOT, ".build", "release", "waymark")
TLS = ssl.create_default_context(cafile=ENV["WAYMARK_TEST_CA"])
UTC = dt.timezone.utc
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu"]
CURRENCIES = ["USD", "GBP", "INR", "CHF"]  # EUR is 1 by definition
EVENTS = {"conversion": (True, True), "lead": (False, True), "upsell": (True, False)}  # (conversion, revenue)
HISTORY_DAYS = 40
# The worker's fold and the daily roll-up rebuild take this lock (db/migrations/0009).
FOLD_LOCK = 7431001
UA_DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
UA_MOBILE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
UA_BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
COUNTS = ["clicks", "bot_clicks", "unique_clicks", "impressions", "conversions", "pending_conversions",
          "declined_conversions", "lander_views", "lander_clicks"]
MONEY = ["revenue", "cost", "profit", "epc", "cpc", "cpa"]
RATIOS = ["roi", "cr", "ctr", "lander_ctr"]
METRICS = set(COUNTS + MONEY + RATIOS)


class Failure(Exception):
    pass


# MARK: the stack: psql, the CLI, HTTP through nginx

def run(args, stdin=None):
    r = subprocess.run(args, input=stdin, capture_output=True, text=True, cwd=ROOT)
    if r.returncode != 0:
        raise Failure("%s failed: %s" % (os.path.basename(args[0]), r.stderr.strip()[-2000:]))
    return r.stdout


def psql(sql):
    return run(["psql", DB, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"], stdin=sql).strip()


def rows(sql):
    """The rows of a query as dicts (each row as row_to_json, one a line)."""
    out = psql("SELECT row_to_json(q) FROM (%s) q" % sql)
    return [json.loads(line, parse_float=decimal.Decimal) for line in out.splitlines() if line]


def lit(value):
    """A SQL literal of a generated value."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Fraction):
        return decimal_text(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict):
        return lit(json.dumps(value)) + "::jsonb"
    return "'" + str(value).replace("'", "''") + "'"


def http(method, url, body=None, token=None, content_type="application/json"):
    headers = {"Authorization": "Bearer " + token} if token else {}
    data = None
    if body is not None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        headers["Content-Type"] = content_type
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPSHandler(context=TLS))
    try:
        with opener.open(req, timeout=30) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def api(method, path, token, body=None, want=(200, 201)):
    status, text, _ = http(method, BASE + "/api/v1" + path, body, token)
    if status not in want:
        raise Failure("%s %s answered %d: %s" % (method, path, status, text[:500]))
    return json.loads(text) if text else None


def health():
    status, text, _ = http("GET", BASE + "/healthz")
    try:
        return json.loads(text)
    except ValueError:
        return {"status": "down", "http": status}


def wait_for(what, condition, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    raise Failure("timed out waiting for " + what)


def click_id(at):
    """A click id as the responder makes it: 5 bytes of its second, 12 random bytes (base64url);
    4 of them are the run's, so a replayed seed makes new ids."""
    seconds = int(at.timestamp())
    raw = seconds.to_bytes(5, "big") + RUN_BYTES + bytes(RNG.getrandbits(8) for _ in range(8))
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# MARK: set-up: workspaces, users, sources, campaigns, a flow, FX rates

class World:
    """What the test created, by id."""

    def __init__(self, stamp):
        self.stamp = stamp
        self.workspaces = {}   # id -> {name, timezone, currency}
        self.sources = {}      # id -> {name, workspace_id, currency, slots: {name: slot}}
        self.campaigns = {}    # id -> {key, name, source, workspace_id, model, amount, currency, flow}
        self.flow = None       # {id, workspace_id, landers, offers}
        self.now = dt.datetime.now(UTC)
        # The latest DST changes of the two DST zones at least two days back: part of the
        # history is put around them, however long ago they were.
        self.changes = [last_change(ZoneInfo(z), self.now - dt.timedelta(days=2)) for z in ("Europe/Berlin", "America/New_York")]
        self.first_day = min([self.now - dt.timedelta(days=HISTORY_DAYS)] + [c - dt.timedelta(days=3) for c in self.changes]).date()
        self.spend_days = sorted({self.now.date() - dt.timedelta(days=n) for n in range(HISTORY_DAYS)}
                                 | {(c + dt.timedelta(days=n)).date() for c in self.changes for n in range(-3, 4)})


def last_change(zone, before):
    """The hour (UTC) of the last change of `zone`'s offset before `before`."""
    t = before.replace(minute=0, second=0, microsecond=0)
    offset = t.astimezone(zone).utcoffset()
    for _ in range(400 * 24):
        earlier = t - dt.timedelta(hours=1)
        if earlier.astimezone(zone).utcoffset() != offset:
            return t
        t = earlier
    raise Failure("no DST change of %s in 400 days" % zone.key)


def create_users(world):
    """An owner makes the workspaces; a member of them (who sees only those and Public) does the rest."""
    password = "prop-password-%d" % RNG.randrange(10 ** 9)
    owner = "prop-owner-%s@example.test" % world.stamp
    run([BINARY, "user", "create", "--email", owner, "--password", password, "--role", "owner"])
    owner_token = run([BINARY, "token", "create", "--email", owner, "--name", "property"]).strip().splitlines()[-1]
    world.owner_token = owner_token
    # Asia/Kolkata would be the half-hour zone, but POST /workspaces refuses it (Foundation knows it as Asia/Calcutta).
    specs = [("UTC", "USD"), ("Europe/Berlin", "EUR"), ("Asia/Kathmandu", "INR")]
    for zone, currency in specs:
        name = "Property %s %s" % (world.stamp, zone)
        w = api("POST", "/workspaces", owner_token, {"name": name, "timezone": zone, "currency": currency})
        world.workspaces[w["id"]] = {"name": name, "timezone": zone, "currency": currency}
    member = "prop-member-%s@example.test" % world.stamp
    args = [BINARY, "user", "create", "--email", member, "--password", password, "--role", "member"]
    for w in world.workspaces.values():
        args += ["--workspace", w["name"]]
    run(args)
    return run([BINARY, "token", "create", "--email", member, "--name", "property"]).strip().splitlines()[-1]


def import_fx(world):
    """Rates on most days (weekends left out, as the ECB does); CHF only from the middle of the
    history on, so early CHF payouts have no rate and are left out with a warning."""
    first = world.first_day - dt.timedelta(days=3)
    chf = world.now.date() - dt.timedelta(days=HISTORY_DAYS // 2)
    lines = ["date,currency,rate"]
    base = {"USD": 1.08, "GBP": 0.86, "INR": 90.1, "CHF": 0.94}
    for n in range((world.now.date() - first).days + 2):
        day = first + dt.timedelta(days=n)
        if day.weekday() >= 5 and n > 0:
            continue
        for cur in CURRENCIES:
            if cur == "CHF" and day < chf:
                continue
            rate = base[cur] * (1 + RNG.uniform(-0.03, 0.03))
            lines.append("%s,%s,%s" % (day.isoformat(), cur, "%.4f" % rate))
    path = "/tmp/waymark-property-fx-%s.csv" % world.stamp
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    try:
        run([BINARY, "fx", "import", path])
    finally:
        os.remove(path)


def create_events(world):
    values = []
    for ws in world.workspaces:
        for key, (conv, rev) in EVENTS.items():
            values.append("(%d, %s, %s, %s, %s)" % (ws, lit(key), lit(key.title()), lit(conv), lit(rev)))
    psql("INSERT INTO conversion_events (workspace_id, key, name, counts_as_conversion, counts_as_revenue) VALUES %s "
         "ON CONFLICT DO NOTHING" % ", ".join(values))


def create_sources(world, token):
    """Two sources per workspace; the second has `zone` in another slot, `placement` as a slot,
    and (in the UTC workspace) costs in GBP."""
    for ws, w in world.workspaces.items():
        layouts = [["zone", "ad"], ["ad", "placement", "zone"]]
        for n, names in enumerate(layouts):
            currency = "GBP" if (n == 1 and w["currency"] == "USD") else w["currency"]
            body = {"name": "Prop %s %s source %d" % (world.stamp, w["timezone"], n), "workspace_id": ws,
                    "cost_currency": currency, "parameters": [{"name": p, "token": "{%s}" % p} for p in names]}
            s = api("POST", "/traffic-sources", token, body)
            world.sources[s["id"]] = {"name": body["name"], "workspace_id": ws, "currency": currency}
    for r in rows("SELECT id, parameters FROM traffic_sources WHERE id IN (%s)" % ",".join(map(str, world.sources))):
        world.sources[r["id"]]["slots"] = {p["name"]: p["slot"] for p in r["parameters"]}


def create_flow(world, token):
    """In the Berlin workspace: path 0 (zone z1) through two landers to two offers, path 1 straight to an offer."""
    ws = next(i for i, w in world.workspaces.items() if w["timezone"] == "Europe/Berlin")
    offers = [api("POST", "/offers", token, {"name": "Prop %s offer %d" % (world.stamp, n), "workspace_id": ws,
                                             "url": "https://offer.example/o%d?c={clickid}" % n, "payout": "2.5",
                                             "currency": "EUR"})["id"] for n in range(2)]
    landers = [api("POST", "/landers", token, {"name": "Prop %s lander %d" % (world.stamp, n), "workspace_id": ws,
                                               "url": "https://lander.example/l%d?c={clickid}" % n})["id"] for n in range(2)]
    paths = [{"name": "Zone one", "rules": [{"field": "param:zone", "op": "in", "values": ["z1"]}],
              "landers": [{"lander_id": i, "weight": 1} for i in landers],
              "offers": [{"offer_id": i, "weight": 1} for i in offers]},
             {"name": "Default", "rules": [], "landers": [], "offers": [{"offer_id": offers[1], "weight": 1}]}]
    flow = api("POST", "/flows", token, {"name": "Prop %s flow" % world.stamp, "workspace_id": ws, "paths": paths})
    world.flow = {"id": flow["id"], "workspace_id": ws, "landers": landers, "offers": offers}


def create_campaigns(world, token):
    """Three campaigns per source, cost models none, cpc, cpa and auto in turn; the first campaign
    of each Berlin source goes through the flow."""
    models = [("none", "0"), ("cpc", "0.05"), ("cpa", "2.5"), ("auto", "0"), ("cpc", "0.35"), ("cpa", "1.75")]
    n = 0
    for sid, s in world.sources.items():
        for i in range(3):
            model, amount = models[n % len(models)]
            n += 1
            name = "Prop %s campaign %d" % (world.stamp, n)
            body = {"name": name, "traffic_source_id": sid, "destination_url": "https://dest.example/?c={clickid}",
                    "cost_model": {"type": model, "amount": amount}}
            flow = world.flow["id"] if (i == 0 and s["workspace_id"] == world.flow["workspace_id"]) else None
            if flow:
                body["flow_id"] = flow
            c = api("POST", "/campaigns", token, body)
            world.campaigns[c["id"]] = {"key": c["key"], "name": name, "source": sid, "workspace_id": s["workspace_id"],
                                        "model": model, "amount": Fraction(amount), "currency": c["currency"], "flow": flow}


def set_up(stamp):
    world = World(stamp)
    token = create_users(world)
    import_fx(world)
    create_events(world)
    create_sources(world, token)
    create_flow(world, token)
    create_campaigns(world, token)
    return world, token


# MARK: the history, straight into PostgreSQL (as bench/report-history.sql)

CLICK_COLUMNS = ["id", "clicked_at", "campaign_id", "traffic_source_id", "workspace_id", "ip", "user_agent", "cost", "is_bot",
                 "is_unique", "country", "device", "flow_id", "flow_path", "lander_id", "offer_id", "extra"] + \
                ["p%d" % i for i in range(1, 31)]


def random_time(world, days_back):
    """A moment in the last `days_back` days; a quarter of them within two days of a DST change."""
    if RNG.random() < 0.25:
        t = RNG.choice(world.changes) + dt.timedelta(minutes=RNG.uniform(-2880, 2880))
        if t < world.now - dt.timedelta(minutes=5):
            return t
    return world.now - dt.timedelta(seconds=RNG.uniform(300, days_back * 86400))


def route(world, campaign, zone):
    """The flow's choice for a click: (path, lander, offer)."""
    if campaign["flow"] is None:
        return None, None, None
    if zone == "z1":
        return 0, RNG.choice(world.flow["landers"]), None
    return 1, None, world.flow["offers"][1]


def make_click(world, cid, at):
    c = world.campaigns[cid]
    slots = world.sources[c["source"]]["slots"]
    bot = RNG.random() < 0.06
    values = {"zone": RNG.choice(["z1", "z1", "z2", "z3", None]), "ad": RNG.choice(["a1", "a2", None]),
              "placement": RNG.choice(["feed", "story", None]), "sub": RNG.choice(["s1", "s2", None, None])}
    row = {"id": click_id(at), "clicked_at": at.isoformat(), "campaign_id": cid, "traffic_source_id": c["source"],
           "workspace_id": c["workspace_id"], "ip": "198.51.100.%d" % RNG.randrange(1, 255),
           "user_agent": UA_BOT if bot else UA_DESKTOP, "is_bot": bot, "is_unique": RNG.random() < 0.6,
           "country": RNG.choice(["US", "DE", "IN", "", "GB"]), "device": "bot" if bot else RNG.choice(["desktop", "mobile", "tablet"]),
           "cost": model_cost(c), "extra": {}}
    for name, value in values.items():
        if value is None:
            continue
        if name in slots:
            row["p%d" % slots[name]] = value
        else:
            row["extra"][name] = value
    row["flow_path"], row["lander_id"], row["offer_id"] = route(world, c, values["zone"])
    row["flow_id"] = c["flow"]
    return row


def model_cost(campaign):
    if campaign["model"] == "cpc":
        return campaign["amount"]
    if campaign["model"] == "auto":
        return Fraction(RNG.randrange(0, 300), 1000)
    return Fraction(0)


def insert_clicks(clicks):
    days = sorted({k["clicked_at"][:10] for k in clicks})
    sql = ["SELECT waymark_ensure_click_partition(%s::date);" % lit(d) for d in days]
    for chunk in range(0, len(clicks), 500):
        values = ["(" + ", ".join(click_value(k, col) for col in CLICK_COLUMNS) + ")" for k in clicks[chunk:chunk + 500]]
        sql.append("INSERT INTO clicks (%s) VALUES %s;" % (", ".join(CLICK_COLUMNS), ", ".join(values)))
    psql("\n".join(sql))


def click_value(k, col):
    value = k.get(col)
    if col == "cost":
        return "%s::numeric" % decimal_text(value)
    if col == "clicked_at":
        return lit(value) + "::timestamptz"
    if col == "extra":
        return lit(value) if value else "NULL"
    return lit(value)


def decimal_text(f):
    """A Fraction with a terminating decimal (generated amounts) as SQL text."""
    return "(%d::numeric / %d)" % (f.numerator, f.denominator)


def lander_clicks_for(world, clicks, share):
    """Click-throughs for some clicks sent to a lander (on or after the click, not after now)."""
    out = []
    for k in clicks:
        if k["lander_id"] is None or RNG.random() > share:
            continue
        at = dt.datetime.fromisoformat(k["clicked_at"])
        through = min(at + dt.timedelta(minutes=RNG.uniform(0, 30)), world.now)
        out.append({**k, "through_at": through.isoformat(), "offer_id": RNG.choice(world.flow["offers"])})
    return out


def insert_lander_clicks(lcs):
    if not lcs:
        return
    cols = ["click_id", "clicked_at", "through_at", "campaign_id", "traffic_source_id", "workspace_id", "flow_id", "flow_path",
            "lander_id", "offer_id", "cost", "is_bot", "is_unique"]
    values = []
    for lc in lcs:
        v = {**lc, "click_id": lc["id"]}
        values.append("(" + ", ".join(click_value(v, c) if c != "through_at" else lit(v[c]) + "::timestamptz" for c in cols) + ")")
    psql("INSERT INTO lander_clicks (%s) VALUES %s ON CONFLICT DO NOTHING" % (", ".join(cols), ", ".join(values)))


def conversions_for(world, clicks, through):
    """Conversions for some clicks: late ones (days after), several per click by txid, every status and event."""
    out = []
    for k in clicks:
        if RNG.random() > 0.12:
            continue
        at = dt.datetime.fromisoformat(k["clicked_at"])
        for n in range(RNG.choice([1, 1, 1, 2])):
            late = RNG.choice([RNG.uniform(0, 3600), RNG.uniform(0, 86400), RNG.uniform(86400, 8 * 86400)])
            when = min(at + dt.timedelta(seconds=late), world.now - dt.timedelta(seconds=60))
            out.append(make_conversion(world, k, when, n, through.get(k["id"])))
    return out


def make_conversion(world, k, when, n, offer_through):
    c = world.campaigns[k["campaign_id"]]
    event = RNG.choice(["conversion", "conversion", "conversion", "lead", "upsell", "signup"])
    txid = "tx-%s-%d" % (k["id"][:10], n)
    currency = RNG.choice([c["currency"]] * 4 + ["CHF", "USD"])
    return {"workspace_id": k["workspace_id"], "click_id": k["id"], "clicked_at": k["clicked_at"], "campaign_id": k["campaign_id"],
            "traffic_source_id": k["traffic_source_id"], "event_key": event, "txid": txid, "dedupe_key": "t:" + txid,
            "status": RNG.choice(["approved", "approved", "approved", "pending", "declined"]),
            "payout": Fraction(RNG.randrange(0, 5000), 100), "currency": currency, "converted_at": when.isoformat(),
            "flow_id": k["flow_id"], "flow_path": k["flow_path"], "lander_id": k["lander_id"],
            "offer_id": k["offer_id"] if k["offer_id"] is not None else offer_through}


def insert_conversions(convs):
    if not convs:
        return
    cols = ["workspace_id", "click_id", "clicked_at", "campaign_id", "traffic_source_id", "event_key", "txid", "dedupe_key",
            "status", "payout", "currency", "converted_at", "flow_id", "flow_path", "lander_id", "offer_id"]

    def value(v, c):
        if c == "payout":
            return "%s::numeric" % decimal_text(v[c])
        if c in ("clicked_at", "converted_at"):
            return lit(v[c]) + "::timestamptz"
        return lit(v[c])
    values = ["(" + ", ".join(value(v, c) for c in cols) + ")" for v in convs]
    psql("INSERT INTO conversions (%s) VALUES %s ON CONFLICT DO NOTHING" % (", ".join(cols), ", ".join(values)))


def change_statuses(world, share):
    """Late status and payout changes, as the postback path makes them (ConversionStore's UPDATE)."""
    ids = [r["id"] for r in rows("SELECT id FROM conversions WHERE workspace_id IN (%s)" % ws_list(world))]
    sql = []
    for i in ids:
        if RNG.random() < share:
            status = RNG.choice(["approved", "pending", "declined"])
            payout = Fraction(RNG.randrange(0, 5000), 100)
            sql.append("UPDATE conversions SET status = %s, payout = %s::numeric, updated_at = now() WHERE id = %d;"
                       % (lit(status), decimal_text(payout), i))
    if sql:
        psql("\n".join(sql))
    return len(sql)


def ws_list(world):
    return ",".join(map(str, world.workspaces))


def insert_history(world, count, days_back):
    cids = list(world.campaigns)
    clicks = [make_click(world, RNG.choice(cids), random_time(world, days_back)) for _ in range(count)]
    insert_clicks(clicks)
    lcs = lander_clicks_for(world, clicks, 0.5)
    insert_lander_clicks(lcs)
    insert_conversions(conversions_for(world, clicks, {lc["id"]: lc["offer_id"] for lc in lcs}))
    return clicks


def late_lander_clicks(world):
    """Click-throughs arriving for clicks already folded (they move the roll-ups' offer)."""
    known = rows("""SELECT k.id, to_char(k.clicked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') AS clicked_at,
                           k.campaign_id, k.traffic_source_id, k.workspace_id, k.flow_id, k.flow_path, k.lander_id, k.cost, k.is_bot,
                           k.is_unique
                    FROM clicks k LEFT JOIN lander_clicks lc ON lc.click_id = k.id
                    WHERE k.workspace_id IN (%s) AND k.lander_id IS NOT NULL AND lc.click_id IS NULL""" % ws_list(world))
    for k in known:
        k["cost"] = Fraction(str(k["cost"]))
    insert_lander_clicks(lander_clicks_for(world, known, 0.3))


# MARK: spend through the API

def post_spend(world, token):
    """Source-level and campaign-level entries (some by parameter, some zero, some in another
    currency), then a re-send of some keys with a new amount (which replaces it)."""
    entries = []
    for sid, s in world.sources.items():
        for day in RNG.sample(world.spend_days, 16):
            entries.append(spend_entry(day, sid, None, s["currency"]))
    for cid, c in world.campaigns.items():
        for day in RNG.sample(world.spend_days, 12):
            entries.append(spend_entry(day, c["source"], cid, world.sources[c["source"]]["currency"]))
            if RNG.random() < 0.2:
                entries.append({**entries[-1], "dimensions": {"zone": RNG.choice(["z1", "z2"])}, "amount": amount_text()})
    for chunk in range(0, len(entries), 200):
        api("POST", "/spend", token, {"entries": entries[chunk:chunk + 200]})
    again = [{**e, "amount": amount_text()} for e in RNG.sample(entries, 20)]
    api("POST", "/spend", token, {"entries": again})
    # Impressions come only from integration pulls: put some on entries as a pull would.
    psql("UPDATE spend_entries SET impressions = (id %% 7) * 100 + 1 WHERE workspace_id IN (%s) AND id %% 3 = 0" % ws_list(world))


def archive(world, token):
    """A campaign and a source with data are archived: their rows stay, the padding leaves them out."""
    campaign = next(c for c, r in world.campaigns.items() if r["flow"] is None and r["model"] == "cpc")
    api("DELETE", "/campaigns/%d" % campaign, token, want=(200, 204))
    ws = next(i for i, w in world.workspaces.items() if w["timezone"] == "Asia/Kathmandu")
    source = max(s for s, r in world.sources.items() if r["workspace_id"] == ws)
    for c in [c for c, r in world.campaigns.items() if r["source"] == source]:
        api("DELETE", "/campaigns/%d" % c, token, want=(200, 204))
    api("DELETE", "/traffic-sources/%d" % source, token, want=(200, 204))


def spend_entry(day, source, campaign, currency):
    e = {"date": day.isoformat(), "traffic_source_id": source, "amount": amount_text(),
         "currency": currency if RNG.random() < 0.8 else RNG.choice(["EUR", "USD"])}
    if campaign is not None:
        e["campaign_id"] = campaign
    return e


def amount_text():
    return "0" if RNG.random() < 0.08 else "%d.%02d" % (RNG.randrange(0, 60), RNG.randrange(100))


# MARK: live traffic through nginx, and an outage

def live_clicks(world, n):
    """Clicks through nginx's /c/{key}; a click sent to a lander sometimes clicks through (/click)."""
    ids = []
    for _ in range(n):
        c = world.campaigns[RNG.choice(list(world.campaigns))]
        query = {"zone": RNG.choice(["z1", "z2"]), "ad": RNG.choice(["a1", "a2"]), "placement": "feed", "sub": "live"}
        if c["model"] == "auto":
            query["cost"] = "0.%03d" % RNG.randrange(1000)
        ua = RNG.choice([UA_DESKTOP, UA_MOBILE, UA_BOT])
        status, _, headers = http_click("/c/%s?%s" % (c["key"], urllib.parse.urlencode(query)), ua)
        if status != 302:
            raise Failure("a click answered %d" % status)
        # Every destination, lander and offer URL here carries the click id as `c`.
        location = urllib.parse.urlparse(headers.get("Location", ""))
        ids += urllib.parse.parse_qs(location.query).get("c", [])
    return ids


def http_click(path, ua):
    req = urllib.request.Request(HTTP + path, headers={"User-Agent": ua})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=30) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)


def api_clicks(world, token, n):
    """Server-side tracking: `POST /api/v1/clicks` records a click as /c/ does."""
    for _ in range(n):
        c = world.campaigns[RNG.choice(list(world.campaigns))]
        body = {"campaign_key": c["key"], "parameters": {"zone": RNG.choice(["z1", "z3"]), "ad": "a2", "sub": "api"},
                "ip": "203.0.113.%d" % RNG.randrange(1, 255), "user_agent": RNG.choice([UA_DESKTOP, UA_MOBILE])}
        api("POST", "/clicks", token, body)


def live_click_throughs(world):
    """`/click?cid=` for some of today's clicks sent to a lander."""
    found = rows("SELECT id FROM clicks WHERE workspace_id IN (%s) AND lander_id IS NOT NULL AND clicked_at > now() - interval '1 hour'"
                 % ws_list(world))
    for r in found:
        if RNG.random() < 0.6:
            status, _, _ = http_click("/click?cid=" + r["id"], UA_DESKTOP)
            if status != 302:
                raise Failure("a click-through answered %d" % status)


def postbacks(world, n):
    """Postbacks through nginx: new conversions for old clicks, and status changes of known ones."""
    known = rows("SELECT click_id, txid, event_key FROM conversions WHERE workspace_id IN (%s) AND txid IS NOT NULL" % ws_list(world))
    clicks = rows("SELECT id FROM clicks WHERE workspace_id IN (%s) ORDER BY id" % ws_list(world))
    for i in range(n):
        if known and i % 2 == 0:
            # The same key again: a new status or payout, now and then a new event (updated).
            k = RNG.choice(known)
            event = k["event_key"] if RNG.random() < 0.8 else RNG.choice(list(EVENTS))
            q = {"clickid": k["click_id"], "txid": k["txid"], "event": event}
        else:
            q = {"clickid": RNG.choice(clicks)["id"], "txid": "pb-%s-%d" % (world.stamp, RNG.randrange(10 ** 9)),
                 "event": RNG.choice(["conversion", "lead", "upsell"])}
        q["status"] = RNG.choice(["approved", "approved", "pending", "declined"])
        q["payout"] = "%d.%02d" % (RNG.randrange(0, 80), RNG.randrange(100))
        if RNG.random() < 0.2:
            q["currency"] = RNG.choice(["GBP", "USD", "CHF"])
        status, text, _ = http("GET", HTTP + "/postback?" + urllib.parse.urlencode(q))
        if status != 200:
            raise Failure("a postback answered %d: %s" % (status, text[:300]))


def outage(world, stored_clicks):
    """PostgreSQL stopped: clicks and postbacks are answered from the spools, then replayed."""
    pg = os.path.join(SCRIPTS, "postgres.sh")
    env = {**ENV, "WAYMARK_INSTANCE": "test"}
    subprocess.run([pg, "stop"], check=True, env=env, capture_output=True)
    try:
        wait_for("the database to be seen down", lambda: health().get("database") != "ok", 30)
        spooled = live_clicks(world, 25)
        txids = postbacks_during_outage(world, stored_clicks[:8] + spooled[:8])
    finally:
        subprocess.run([pg, "start"], check=True, env=env, capture_output=True)
    wait_for("the spools to be replayed", lambda: spools_empty(health()), 60)
    stored = psql("SELECT count(*) FROM conversions WHERE txid IN (%s)" % ", ".join(lit(t) for t in txids))
    if int(stored) != len(txids):
        raise Failure("%d postbacks were spooled during the outage (8 of them for clicks spooled too), %s conversions stored"
                      % (len(txids), stored))


def postbacks_during_outage(world, click_ids):
    """Postbacks for stored clicks and for clicks spooled in the same outage (the click spool is
    replayed first, so they are attributed)."""
    txids = []
    for k in click_ids:
        q = {"clickid": k, "txid": "out-%s-%s" % (world.stamp, k[-8:]), "payout": "%d.50" % RNG.randrange(50),
             "status": RNG.choice(["approved", "pending"])}
        status, text, _ = http("GET", HTTP + "/postback?" + urllib.parse.urlencode(q))
        if status != 202:
            raise Failure("a postback during the outage answered %d: %s" % (status, text[:300]))
        txids.append(q["txid"])
    return txids


def spools_empty(h):
    return h.get("database") == "ok" and h.get("click_spool_bytes") == 0 and h.get("postback_spool_bytes", 0) == 0


# MARK: the raw rows

class Raw:
    """The raw rows of the generated workspaces, as the brute force reads them."""

    def __init__(self, world):
        ws = ws_list(world)
        when = "to_char(%s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
        self.clicks = rows("SELECT k.*, %s AS at FROM clicks k WHERE workspace_id IN (%s)" % (when % "clicked_at", ws))
        self.through = {r["click_id"]: r for r in rows("SELECT click_id, offer_id FROM lander_clicks WHERE workspace_id IN (%s)" % ws)}
        self.conversions = rows("SELECT v.*, %s AS at, %s AS click_at FROM conversions v WHERE workspace_id IN (%s)"
                                % (when % "converted_at", when % "clicked_at", ws))
        events = rows("SELECT * FROM conversion_events WHERE workspace_id IN (%s)" % ws)
        self.events = {(r["workspace_id"], r["key"]): r for r in events}
        self.spend = rows("SELECT * FROM spend_entries WHERE workspace_id IN (%s)" % ws)
        sources = ",".join(map(str, world.sources))
        self.campaigns = {r["id"]: r for r in rows("SELECT * FROM campaigns WHERE traffic_source_id IN (%s)" % sources)}
        self.sources = {r["id"]: r for r in rows("SELECT * FROM traffic_sources WHERE workspace_id IN (%s)" % ws)}
        self.rates = collections.defaultdict(list)
        for r in rows("SELECT currency, day, rate::text AS rate FROM fx_rates ORDER BY day"):
            self.rates[r["currency"]].append((dt.date.fromisoformat(r["day"]), Fraction(r["rate"])))
        self.flows = {r["id"]: r for r in rows("SELECT id, name, paths FROM flows WHERE workspace_id IN (%s)" % ws)}
        self.landers = {r["id"]: r["name"] for r in rows("SELECT id, name FROM landers WHERE workspace_id IN (%s)" % ws)}
        self.offers = {r["id"]: r["name"] for r in rows("SELECT id, name FROM offers WHERE workspace_id IN (%s)" % ws)}
        self.clicks_by_id = {k["id"]: k for k in self.clicks}
        for k in self.clicks:
            k["t"] = parse_utc(k["at"])
        for v in self.conversions:
            v["t"], v["click_t"] = parse_utc(v["at"]), parse_utc(v["click_at"])

    def rate(self, currency, day):
        if currency == "EUR":
            return Fraction(1)
        found = None
        for d, r in self.rates.get(currency, []):
            if d > day:
                break
            found = r
        return found

    def convert(self, amount, src, dst, day):
        """`amount` in `dst` at `day`'s rates (through the euro), or None without a rate."""
        if src == dst:
            return amount
        a, b = self.rate(src, day), self.rate(dst, day)
        return None if a is None or b is None else amount / a * b


def parse_utc(text):
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


# MARK: the brute force

class Query:
    def __init__(self, params):
        self.params = params
        self.groups = params.get("group_by", "traffic_source").split(",")
        self.frm = dt.date.fromisoformat(params["from"])
        self.to = dt.date.fromisoformat(params["to"])
        self.by_conversion = params.get("attribution") == "conversion"

    def url(self):
        return "/reports?" + urllib.parse.urlencode(self.params)

    def describe(self):
        return "GET /api/v1" + self.url()


def defaults(q, world):
    """tz and currency: the request's, else the workspace's when one is named, else UTC and USD
    (the member sees three workspaces)."""
    ws = q.params.get("workspace_id")
    w = world.workspaces.get(int(ws)) if ws else None
    tz = q.params.get("tz") or (w["timezone"] if w else "UTC")
    currency = q.params.get("currency") or (w["currency"] if w else "USD")
    return tz, currency


def in_scope(q, item, spend=False):
    p = q.params
    for key, col in (("workspace_id", "workspace_id"), ("traffic_source_id", "traffic_source_id"), ("campaign_id", "campaign_id")):
        if key in p and item[col] != int(p[key]):
            return False
    if "flow_id" in p:
        if spend or item["flow_id"] != int(p["flow_id"]):
            return False
        if "path" in p and item["flow_path"] != int(p["path"]):
            return False
    return True


class Brute:
    """The expected report: each click, conversion and spend entry put on its (day, source,
    campaign, dimensions), cost replaced by spend where some exists, then summed per row."""

    def __init__(self, q, world, raw):
        self.q, self.world, self.raw = q, world, raw
        self.tz, self.currency = defaults(q, world)
        self.zone = ZoneInfo(self.tz)
        self.start = dt.datetime.combine(q.frm, dt.time(0), self.zone)
        self.end = dt.datetime.combine(q.to + dt.timedelta(days=1), dt.time(0), self.zone)
        self.items = []   # (day, source, campaign, dims, sums, model_cost)
        self.missing = False

    def local(self, t):
        return t.astimezone(self.zone)

    def hour(self, t):
        local = self.local(t)
        offset = int(local.utcoffset().total_seconds())
        sign = "-" if offset < 0 else "+"
        return local.strftime("%Y-%m-%dT%H:00:00") + "%s%02d:%02d" % (sign, abs(offset) // 3600, abs(offset) % 3600 // 60)

    def param(self, name, click):
        if click is None:
            return None
        slot = self.raw.sources[click["traffic_source_id"]]["parameters"]
        slots = {p["name"]: p["slot"] for p in slot}
        if name in slots:
            return click.get("p%d" % slots[name])
        extra = click.get("extra") or {}
        value = extra.get(name)
        return None if value is None else str(value)

    def dims(self, t, click, flow, event, is_spend=False, spend=None):
        """The requested dimensions beyond day, source and campaign, in group order."""
        out = []
        for g in self.q.groups:
            if g in ("day", "traffic_source", "campaign"):
                continue
            if is_spend:
                out.append((spend["dimensions"].get(g[6:]) if g.startswith("param:") else None))
            elif g == "hour":
                out.append(self.hour(t))
            elif g.startswith("param:"):
                out.append(self.param(g[6:], click))
            elif g in ("country", "device"):
                out.append(click[g] if click else None)
            elif g == "event":
                out.append(event)
            else:
                out.append(flow[g])
        return tuple(out)

    def add(self, day, source, campaign, dims, sums, model_cost=Fraction(0)):
        self.items.append((day, source, campaign, dims, sums, model_cost))

    def money(self, amount, currency, day):
        value = self.raw.convert(amount, currency, self.currency, day)
        if value is None:
            if amount != 0:
                self.missing = True
            return Fraction(0)
        return value

    def add_clicks(self):
        for k in self.raw.clicks:
            if not (self.start <= k["t"] < self.end) or not in_scope(self.q, k):
                continue
            through = self.raw.through.get(k["id"])
            offer = k["offer_id"] if k["offer_id"] is not None else (through["offer_id"] if through else None)
            flow = flow_dims(k, offer)
            human = not k["is_bot"]
            sums = {"clicks": int(human), "bot_clicks": int(k["is_bot"]), "unique_clicks": int(human and k["is_unique"]),
                    "lander_views": int(human and k["lander_id"] is not None), "lander_clicks": int(human and through is not None)}
            c = self.raw.campaigns[k["campaign_id"]]
            day = self.local(k["t"]).date()
            cost = click_model_cost(c, k)
            self.add(day, k["traffic_source_id"], k["campaign_id"], self.dims(k["t"], k, flow, None), sums,
                     self.money(cost, c["currency"], day))

    def add_conversions(self):
        for v in self.raw.conversions:
            t = v["t"] if self.q.by_conversion else v["click_t"]
            if not (self.start <= t < self.end) or not in_scope(self.q, v):
                continue
            counts, revenue = event_flags(self.raw, v)
            day = self.local(t).date()
            approved = v["status"] == "approved" and counts
            sums = {"conversions": int(approved), "pending_conversions": int(v["status"] == "pending" and counts),
                    "declined_conversions": int(v["status"] == "declined" and counts)}
            if v["status"] == "approved" and revenue:
                sums["revenue"] = self.money(Fraction(str(v["payout"])), v["currency"], day)
            c = self.raw.campaigns[v["campaign_id"]]
            cpa = Fraction(str(c["cost_amount"])) if (c["cost_model"] == "cpa" and approved) else Fraction(0)
            click = self.raw.clicks_by_id.get(v["click_id"])
            self.add(day, v["traffic_source_id"], v["campaign_id"], self.dims(t, click, flow_dims(v, v["offer_id"]), v["event_key"]),
                     sums, self.money(cpa, c["currency"], day))

    def add_spend(self):
        for e in self.raw.spend:
            day = dt.date.fromisoformat(e["day"])
            if not (self.q.frm <= day <= self.q.to) or not in_scope(self.q, e, spend=True):
                continue
            amount = self.money(Fraction(str(e["amount"])), e["currency"], day)
            if self.raw.convert(Fraction(1), e["currency"], self.currency, day) is None:
                self.missing = True
            self.add(day, e["traffic_source_id"], e["campaign_id"], self.dims(None, None, None, None, True, e),
                     {"cost": amount, "spend": amount, "impressions": e.get("impressions") or 0})

    def answer(self):
        self.add_clicks()
        self.add_conversions()
        self.add_spend()
        spent = {(d, s, c) for d, s, c, _, sums, _ in self.items if c is not None and sums.get("spend", 0) != 0}
        out = collections.OrderedDict()
        for day, source, campaign, dims, sums, model in self.items:
            key = self.row_key(day, source, campaign, dims)
            row = out.setdefault(key, collections.Counter())
            for name, value in sums.items():
                if name != "spend":
                    row[name] += value
            if (day, source, campaign) not in spent:
                row["cost"] += model
        return out

    def row_key(self, day, source, campaign, dims):
        rest = iter(dims)
        key = []
        for g in self.q.groups:
            key.append(day if g == "day" else source if g == "traffic_source" else campaign if g == "campaign" else next(rest))
        return tuple(key)


def flow_dims(item, offer):
    path = (item["flow_id"], item["flow_path"]) if item["flow_id"] is not None and item["flow_path"] is not None else None
    return {"flow": item["flow_id"], "path": path, "lander": item["lander_id"], "offer": offer}


def click_model_cost(campaign, click):
    """CPC: the amount per click, bots included; auto: the click's cost parameter; else 0 (CPA comes with conversions)."""
    if campaign["cost_model"] == "cpc":
        return Fraction(str(campaign["cost_amount"]))
    if campaign["cost_model"] == "auto":
        return Fraction(str(click["cost"]))
    return Fraction(0)


def event_flags(raw, v):
    ev = raw.events.get((v["workspace_id"], v["event_key"]))
    return (True, True) if ev is None else (ev["counts_as_conversion"], ev["counts_as_revenue"])


# MARK: expected rows as the API shows them

def round_half_up(f, places):
    n = f * 10 ** places
    sign = -1 if n < 0 else 1
    return sign * int(abs(n) + Fraction(1, 2))


def money_text(f):
    q = round_half_up(f, 4)
    sign = "-" if q < 0 else ""
    return "%s%d.%04d" % (sign, abs(q) // 10000, abs(q) % 10000)


def ratio(a, b, times=1):
    return None if b == 0 else a * times / b


def metric_values(s):
    s = {name: s.get(name, 0) for name in COUNTS + ["revenue", "cost"]}
    revenue, cost = Fraction(s["revenue"]), Fraction(s["cost"])
    out = {name: int(s[name]) for name in COUNTS}
    money = {"revenue": revenue, "cost": cost, "profit": revenue - cost, "epc": ratio(revenue, s["clicks"]),
             "cpc": ratio(cost, s["clicks"]), "cpa": ratio(cost, s["conversions"])}
    for name, v in money.items():
        out[name] = None if v is None else money_text(v)
    ratios = {"roi": ratio(revenue - cost, cost, 100), "cr": ratio(Fraction(s["conversions"]), s["clicks"], 100),
              "ctr": ratio(Fraction(s["clicks"]), s["impressions"], 100),
              "lander_ctr": ratio(Fraction(s["lander_clicks"]), s["lander_views"], 100)}
    for name, v in ratios.items():
        out[name] = None if v is None else round_half_up(v, 2) / 100
    return out


def dimension_values(q, key, raw):
    out = {}
    for g, v in zip(q.groups, key):
        if g == "day":
            out["day"] = v.isoformat()
        elif g == "traffic_source":
            out["traffic_source_id"], out["traffic_source_name"] = v, raw.sources[v]["name"]
        elif g == "campaign":
            if v is not None:
                out["campaign_id"] = v
            out["campaign_name"] = raw.campaigns[v]["name"] if v is not None else "(unassigned)"
        elif g in ("flow", "lander", "offer"):
            names = {"flow": {i: f["name"] for i, f in raw.flows.items()}, "lander": raw.landers, "offer": raw.offers}[g]
            out[g + "_id"], out[g + "_name"] = v, (None if v is None else names.get(v, "#%d" % v))
        elif g == "path":
            out["path"] = None if v is None else path_name(raw, *v)
        elif v is not None:
            out[g[6:] if g.startswith("param:") else g] = v
    return out


def path_name(raw, flow, index):
    paths = raw.flows[flow]["paths"] if flow in raw.flows else []
    return paths[index]["name"] if index < len(paths) else "Path %d" % (index + 1)


def padding(q, world, raw, present):
    """The dashboard's empty rows (ReportPadding): every live source of a by-source report
    unfiltered by source, campaign or flow; every live campaign of a source drilled into."""
    p = q.params
    if q.groups == ["traffic_source"] and not {"traffic_source_id", "campaign_id", "flow_id"} & set(p):
        ws = int(p["workspace_id"])
        return [(s,) for s, r in raw.sources.items() if r["workspace_id"] == ws and r["archived_at"] is None and (s,) not in present]
    if q.groups == ["campaign"] and "traffic_source_id" in p and not {"campaign_id", "flow_id"} & set(p):
        sid = int(p["traffic_source_id"])
        return [(c,) for c, r in raw.campaigns.items()
                if r["traffic_source_id"] == sid and r["archived_at"] is None and (c,) not in present]
    return []


def expected(q, world, raw):
    brute = Brute(q, world, raw)
    sums = brute.answer()
    for key in padding(q, world, raw, sums):
        sums[key] = collections.Counter()
    out = {}
    total = collections.Counter()
    for key, s in sums.items():
        dims = dimension_values(q, key, raw)
        out[canonical(dims)] = {**dims, **metric_values(s)}
        total.update(s)
    return out, metric_values(total), brute


def canonical(dims):
    return json.dumps(dims, sort_keys=True)


# MARK: comparing

def compare(q, world, raw):
    status, text, _ = http("GET", BASE + "/api/v1" + q.url(), token=TOKEN)
    if status != 200:
        return ["answered %d: %s" % (status, text[:500])], 0, False
    answer = json.loads(text)
    want_rows, want_totals, brute = expected(q, world, raw)
    problems = []
    if answer.get("tz") != brute.tz or answer.get("currency") != brute.currency:
        problems.append("tz/currency: expected %s %s, got %s %s"
                        % (brute.tz, brute.currency, answer.get("tz"), answer.get("currency")))
    got_rows = {}
    for r in answer["rows"]:
        dims = {k: v for k, v in r.items() if k not in METRICS or k in param_names(q)}
        got_rows[canonical(dims)] = r
    for key in sorted(set(want_rows) | set(got_rows)):
        w, g = want_rows.get(key), got_rows.get(key)
        if w != g:
            problems.append("row %s\n      expected %s\n      actual   %s" % (key, metrics_only(w), metrics_only(g)))
    if len(answer["rows"]) != len(got_rows):
        problems.append("%d rows share their dimensions" % (len(answer["rows"]) - len(got_rows)))
    order = [labels(q, r) for r in answer["rows"]]
    if order != sorted(order):
        problems.append("rows are not sorted by their dimension labels: %s" % order[:8])
    if answer["totals"] != want_totals:
        problems.append("totals\n      expected %s\n      actual   %s" % (want_totals, answer["totals"]))
    if bool(answer.get("warnings")) != brute.missing:
        want = "a missing-rate warning" if brute.missing else "none"
        problems.append("warnings: expected %s, got %s" % (want, answer.get("warnings")))
    return problems, len(answer["rows"]), brute.missing


def labels(q, row):
    """What rows are sorted by (ReportRowDecoder): each dimension's label, in group order."""
    out = []
    for g in q.groups:
        if g in ("traffic_source", "campaign", "flow", "lander", "offer"):
            missing = {"traffic_source": "", "campaign": "(unassigned)"}.get(g, "(no %s)" % g)
            out.append(row.get(g + "_name") or missing)
        elif g == "path":
            out.append(row.get("path") or "(no flow)")
        else:
            key = g[6:] if g.startswith("param:") else g
            missing = {"day": "", "hour": "(daily spend)", "event": "(no event)"}.get(g, "(unassigned)")
            out.append(row[key] if row.get(key) is not None else missing)
    return out


def param_names(q):
    return {g[6:] for g in q.groups if g.startswith("param:")}


def metrics_only(row):
    if row is None:
        return "(no row)"
    return {k: v for k, v in row.items() if k in METRICS and v not in (0, None, "0.0000")}


# MARK: random queries

GROUPS = ["day", "hour", "traffic_source", "campaign", "param:zone", "param:ad", "param:placement", "param:sub", "country",
          "device", "event", "flow", "path", "lander", "offer"]


def random_query(world):
    p = {}
    scope(world, p)
    groups = RNG.sample(GROUPS, RNG.choice([0, 1, 1, 2, 2, 3]))
    if groups:
        p["group_by"] = ",".join(groups)
    today = world.now.date()
    start = today - dt.timedelta(days=RNG.randrange(0, HISTORY_DAYS + 2))
    if RNG.random() < 0.35:
        start = RNG.choice(world.changes).date() - dt.timedelta(days=RNG.randrange(0, 4))
    end = min(start + dt.timedelta(days=RNG.choice([0, 1, 2, 6, 13, 30])), today)
    p["from"], p["to"] = start.isoformat(), max(start, end).isoformat()
    if RNG.random() < 0.85:
        p["tz"] = RNG.choice(ZONES)
    if RNG.random() < 0.7:
        p["attribution"] = RNG.choice(["click", "conversion"])
    if RNG.random() < 0.15:
        p["currency"] = RNG.choice(["USD", "EUR", "GBP", "INR"])
    return Query(p)


def scope(world, p):
    """Every query names one of the generated workspaces, sources, campaigns or the flow, so the
    data of other tests (other workspaces, Public sources) stays out."""
    kind = RNG.choice(["workspace", "workspace", "source", "source", "campaign", "flow", "both"])
    if kind in ("workspace", "both"):
        p["workspace_id"] = RNG.choice(list(world.workspaces))
    if kind in ("source", "both"):
        sources = [s for s, r in world.sources.items() if "workspace_id" not in p or r["workspace_id"] == p["workspace_id"]]
        p["traffic_source_id"] = RNG.choice(sources)
    if kind == "campaign":
        p["campaign_id"] = RNG.choice(list(world.campaigns))
    if kind == "flow":
        p["flow_id"] = world.flow["id"]
        if RNG.random() < 0.5:
            p["path"] = RNG.choice([0, 1])
        if RNG.random() < 0.3:
            p["workspace_id"] = world.flow["workspace_id"]


def run_queries(world, raw, n, label, failures):
    unfolded = compared = warned = 0
    for _ in range(n):
        q = random_query(world)
        if not folded(world):
            unfolded += 1
        problems, count, missing_rate = compare(q, world, raw)
        compared += count
        warned += missing_rate
        if problems:
            failures.append((label, q, problems))
    print("reports property: %s: %d queries (%d rows, %d with a missing FX rate), %d with roll-ups not yet folded or rebuilt,"
          " %d failed; at %.0f s" % (label, n, compared, warned, unfolded, sum(1 for f in failures if f[0] == label),
                                    time.monotonic() - STARTED), flush=True)


# MARK: the run

def hold_fold_lock():
    """Keeps the worker from folding the roll-up deltas (its fold takes this lock first), so the
    first queries read deltas that are not yet folded."""
    p = subprocess.Popen(["psql", DB, "-X", "-q", "-At"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    p.stdin.write("BEGIN;\nSELECT 'locked' FROM (SELECT pg_advisory_xact_lock(%d)) x;\n" % FOLD_LOCK)
    p.stdin.flush()
    if p.stdout.readline().strip() != "locked":
        raise Failure("could not take the roll-up lock")
    return p


def release(lock):
    lock.stdin.write("COMMIT;\n")
    lock.stdin.close()
    lock.wait(timeout=30)


def delta_tables():
    """The roll-ups' deltas: the clicks', and the conversions' once they are rolled up too."""
    global DELTAS
    if DELTAS is None:
        DELTAS = ["click_rollup_deltas"]
        if psql("SELECT to_regclass('conversion_rollup_deltas') IS NOT NULL") == "t":
            DELTAS.append("conversion_rollup_deltas")
    return DELTAS


def move_zone(world):
    """The UTC workspace moves to New York: the worker cuts its daily roll-ups anew, and the
    reports stay exact before and after it has."""
    ws = next(i for i, w in world.workspaces.items() if w["timezone"] == "UTC")
    api("PATCH", "/workspaces/%d" % ws, world.owner_token, {"timezone": "America/New_York"})
    world.workspaces[ws]["timezone"] = "America/New_York"


def folded(world):
    """The worker has folded every delta and cut the whole-hour workspaces' days in their zone."""
    deltas = " + ".join("(SELECT count(*) FROM %s)" % t for t in delta_tables())
    pending = "SELECT count(*) FROM workspaces WHERE id IN (%s) AND rollup_timezone IS DISTINCT FROM timezone" % ws_list(world)
    return psql("SELECT %s + (%s)" % (deltas, pending)) == "0"


def report(failures, seed):
    for label, q, problems in failures[:5]:
        print("\nFAILED (%s) %s" % (label, q.describe()))
        for p in problems[:4]:
            print("   " + p)
        if len(problems) > 4:
            print("   … and %d more differences" % (len(problems) - 4))
    print("\nreports property: %d of the queries disagree with the brute force; replay with WAYMARK_PROPERTY_SEED=%d"
          % (len(failures), seed))


def generate(world, token):
    clicks = insert_history(world, 2400, HISTORY_DAYS)
    post_spend(world, token)
    live_clicks(world, 40)
    api_clicks(world, token, 10)
    live_click_throughs(world)
    postbacks(world, 30)
    outage(world, [k["id"] for k in clicks])
    live_click_throughs(world)
    archive(world, token)


def main():
    global RNG, TOKEN
    seed = int(ENV.get("WAYMARK_PROPERTY_SEED") or random.SystemRandom().randrange(1, 10 ** 9))
    queries = int(ENV.get("WAYMARK_PROPERTY_QUERIES", "200"))
    print("reports property: seed %d" % seed, flush=True)
    RNG = random.Random(seed)
    world, TOKEN = set_up("%d-%d" % (int(time.time()), seed))
    generate(world, TOKEN)
    print("reports property: history generated at %.0f s" % (time.monotonic() - STARTED), flush=True)
    failures = []
    lock = hold_fold_lock()
    try:
        insert_history(world, 800, HISTORY_DAYS)
        late_lander_clicks(world)
        change_statuses(world, 0.1)
        run_queries(world, Raw(world), queries // 4, "before the fold", failures)
    finally:
        release(lock)
    wait_for("the worker to fold the roll-ups", lambda: folded(world), 60)
    raw = Raw(world)
    run_queries(world, raw, queries // 4 + queries // 8, "after the fold", failures)
    change_statuses(world, 0.15)
    postbacks(world, 20)
    move_zone(world)
    run_queries(world, Raw(world), queries - queries // 2 - queries // 8, "after late status changes and a zone change", failures)
    print("reports property: %d clicks, %d conversions, %d spend entries; %.0f s"
          % (len(raw.clicks), len(raw.conversions), len(raw.spend), time.monotonic() - STARTED))
    if failures:
        report(failures, seed)
        return 1
    print("reports property: every row and total equals the brute force")
    return 0


RNG = random.Random(0)
RUN_BYTES = os.urandom(4)
DELTAS = None
STARTED = time.monotonic()
TOKEN = None

if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failure as e:
        print("reports property: %s" % e, file=sys.stderr)
        sys.exit(1)
