"""Shared machinery for the provider fakes: HTTP plumbing, request log,
token store, failure modes, control API (/__fake/...) and seed metrics.

Each provider subclass implements `seed()`, `route(req)` and
`fail_response(req, kind)`; everything else lives here.
"""
import base64
import datetime as dt
import hashlib
import http.server
import json
import secrets
import sys
import threading
import time
import urllib.parse
from decimal import Decimal, ROUND_HALF_UP


def utc_today():
    return dt.datetime.now(dt.timezone.utc).date()


def seed_dates(days=14):
    """The 14 seeded UTC dates: today-13 .. today."""
    today = utc_today()
    return [today - dt.timedelta(days=i) for i in range(days - 1, -1, -1)]


def h(*parts):
    """Deterministic integer from parts."""
    return int(hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:12], 16)


def daily_metrics(ad_id, date):
    """Deterministic impressions/clicks/cost for one ad on one date."""
    x = h(ad_id, date.isoformat())
    impressions = 200 + x % 1800
    clicks = 1 + (x // 7) % max(2, impressions // 20)
    cents = clicks * (10 + (x // 13) % 190)
    return impressions, clicks, Decimal(cents) / 100


def money(value):
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def new_id(prefix="", nbytes=16):
    return prefix + secrets.token_urlsafe(nbytes)


def b64(s):
    return base64.urlsafe_b64encode(s.encode()).decode().rstrip("=")


def unb64(s):
    try:
        return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)).decode()
    except Exception:
        return None


class Request:
    def __init__(self, method, raw_path, headers, body, client):
        self.method = method
        parsed = urllib.parse.urlsplit(raw_path)
        self.path = parsed.path
        self.raw_query = parsed.query
        self.query_lists = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        self.query = {k: v[0] for k, v in self.query_lists.items()}
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.body_bytes = body
        self.body = body.decode("utf-8", "replace")
        self.client = client
        self.host = self.headers.get("host", "")
        self._json = None
        self.json_error = None
        if body:
            try:
                self._json = json.loads(self.body)
            except ValueError as e:
                self.json_error = str(e)

    @property
    def json(self):
        return self._json

    def form(self):
        return {k: v[0] for k, v in urllib.parse.parse_qs(self.body, keep_blank_values=True).items()}

    def content_type(self):
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def bearer(self):
        auth = self.headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            return auth[7:].strip()
        return None


class Response:
    def __init__(self, status=200, body=b"", content_type="application/json; charset=UTF-8", headers=None):
        self.status = status
        if isinstance(body, (dict, list)):
            body = json.dumps(body, separators=(",", ":")).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.body = body
        self.headers = dict(headers or {})
        if content_type and body:
            self.headers.setdefault("Content-Type", content_type)


def json_response(obj, status=200, headers=None):
    return Response(status, obj, headers=headers)


def html_response(status, title, text):
    page = "<!doctype html><html><head><title>%s</title></head><body><h1>%s</h1><p>%s</p></body></html>" % (
        title, title, text)
    return Response(status, page, content_type="text/html; charset=utf-8")


def redirect(location):
    return Response(302, b"", headers={"Location": location})


def add_query(url, params, fragment=None):
    parts = urllib.parse.urlsplit(url)
    q = parts.query
    extra = urllib.parse.urlencode(params)
    q = q + "&" + extra if q else extra
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, q, fragment if fragment is not None else parts.fragment))


def valid_redirect_uri(uri):
    parts = urllib.parse.urlsplit(uri or "")
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not parts.fragment


class Token:
    def __init__(self, value, kind, client_id, grant, lifetime, **extra):
        self.value = value
        self.kind = kind            # "access" | "refresh" | "code"
        self.client_id = client_id
        self.grant = grant          # dict shared by every token of one consent
        self.issued = time.time()
        self.expires_at = None if lifetime is None else self.issued + lifetime
        self.revoked = False
        self.used = False
        self.extra = extra

    def state(self):
        """'ok' | 'revoked' | 'expired'."""
        if self.revoked or self.grant.get("revoked"):
            return "revoked"
        if self.expires_at is not None and time.time() >= self.expires_at:
            return "expired"
        return "ok"


class Fake:
    name = "fake"

    def __init__(self, token_lifetime=3600):
        self.token_lifetime = token_lifetime
        self.lock = threading.RLock()
        self.reset()

    # ----- state -------------------------------------------------------
    def reset(self):
        with self.lock:
            self.requests = []
            self.events = []
            self.tokens = {}
            self.failures = []
            self.deny = False
            self.custom_rows = {}
            self.config = {}
            self.seed()

    def seed(self):
        pass

    def issue(self, kind, client_id, grant, lifetime, prefix="", **extra):
        tok = Token(new_id(prefix), kind, client_id, grant, lifetime, **extra)
        self.tokens[tok.value] = tok
        return tok

    def lookup(self, value, kind="access"):
        tok = self.tokens.get(value or "")
        if tok is None or tok.kind != kind:
            return None
        return tok

    def record_event(self, endpoint, account, event, **context):
        self.events.append({"provider": self.name, "endpoint": endpoint, "account_or_pixel": account,
                            "event": event, "context": context, "time": time.time()})

    def rows_for(self, account_id):
        """Metric rows for an account: custom rows if PUT, else seeded rows."""
        if account_id in self.custom_rows:
            return self.custom_rows[account_id]
        return self.seed_rows.get(account_id, [])

    # ----- dispatch -----------------------------------------------------
    def handle(self, req):
        if req.path.startswith("/__fake/"):
            return self.control(req)
        with self.lock:
            fail = self.take_failure(req)
        if fail:
            resp = self.fail_response(req, fail)
        else:
            try:
                resp = self.route(req)
            except Exception as e:  # a bug in the fake must not look like a provider answer
                import traceback
                traceback.print_exc()
                resp = json_response({"fake_internal_error": repr(e)}, 599)
            if resp is None:
                resp = self.not_found(req)
        with self.lock:
            self.requests.append({
                "method": req.method, "path": req.path, "query": req.query, "raw_query": req.raw_query,
                "headers": req.headers, "body": req.body, "json": req.json,
                "time": time.time(), "status": resp.status})
        return resp

    def take_failure(self, req):
        for f in self.failures:
            if f["count"] > 0 and f["path_contains"] in req.path and f.get("method", req.method) == req.method:
                f["count"] -= 1
                return f["kind"]
        return None

    def not_found(self, req):
        return json_response({"error": "not found in fake", "path": req.path}, 404)

    def route(self, req):
        raise NotImplementedError

    def fail_response(self, req, kind):
        raise NotImplementedError

    # ----- control API --------------------------------------------------
    def control(self, req):
        p, m = req.path, req.method
        body = req.json if isinstance(req.json, dict) else {}
        with self.lock:
            if p == "/__fake/requests" and m == "GET":
                sub = req.query.get("path_contains", "")
                return json_response({"requests": [r for r in self.requests if sub in r["path"]]})
            if p == "/__fake/received-events" and m == "GET":
                return json_response(self.events)
            if p == "/__fake/reset" and m == "POST":
                self.reset()
                return json_response({"ok": True})
            if p == "/__fake/revoke-tokens" and m == "POST":
                for t in self.tokens.values():
                    t.revoked = True
                self.on_revoke_all()
                return json_response({"ok": True, "revoked": len(self.tokens)})
            if p == "/__fake/expire-tokens" and m == "POST":
                now = time.time()
                n = 0
                for t in self.tokens.values():
                    if t.kind == "access":
                        t.expires_at = now - 1
                        n += 1
                return json_response({"ok": True, "expired": n})
            if p == "/__fake/fail" and m == "POST":
                kind = body.get("kind")
                if kind not in self.fail_kinds:
                    return json_response({"error": "kind must be one of %s" % sorted(self.fail_kinds)}, 400)
                f = {"path_contains": str(body.get("path_contains", "")), "kind": kind,
                     "count": int(body.get("count", 1))}
                if body.get("method"):
                    f["method"] = body["method"].upper()
                self.failures.append(f)
                return json_response({"ok": True, "failures": self.failures})
            if p == "/__fake/consent" and m == "POST":
                self.deny = bool(body.get("deny"))
                return json_response({"ok": True, "deny": self.deny})
            if p == "/__fake/metrics" and m == "PUT":
                acct = str(body.get("account_id", ""))
                rows = body.get("rows")
                if not acct or not isinstance(rows, list):
                    return json_response({"error": "need account_id and rows[]"}, 400)
                try:
                    self.custom_rows[self.normalise_account(acct)] = [self.normalise_row(r) for r in rows]
                except (KeyError, ValueError, TypeError) as e:
                    return json_response({"error": "bad row: %r" % (e,)}, 400)
                return json_response({"ok": True, "rows": len(rows)})
            if p == "/__fake/config" and m in ("PUT", "POST"):
                self.config.update(body)
                return json_response({"ok": True, "config": self.config})
            if p == "/__fake/tokens" and m == "GET":
                return json_response({"tokens": [
                    {"token": t.value, "kind": t.kind, "state": t.state(), "client_id": t.client_id,
                     "expires_at": t.expires_at} for t in self.tokens.values()]})
        return json_response({"error": "unknown control endpoint"}, 404)

    fail_kinds = {"rate_limit", "server_error", "auth"}

    def on_revoke_all(self):
        pass

    def normalise_account(self, acct):
        return acct

    def normalise_row(self, r):
        return {
            "date": dt.date.fromisoformat(r["date"]),
            "campaign_id": str(r.get("campaign_id", "1")), "campaign_name": r.get("campaign_name", "Campaign"),
            "ad_group_id": str(r.get("ad_group_id", "1")), "ad_group_name": r.get("ad_group_name", "Ad group"),
            "ad_id": str(r.get("ad_id", "1")), "ad_name": r.get("ad_name", "Ad"),
            "keyword": r.get("keyword"), "match_type": r.get("match_type", "EXACT"),
            "keyword_id": str(r.get("keyword_id") or (h(r.get("ad_group_id"), r.get("keyword")) % 10**11)),
            "impressions": int(r.get("impressions", 0)), "clicks": int(r.get("clicks", 0)),
            "cost": money(r.get("cost", "0")),
        }


def build_seed(accounts, id_of):
    """accounts: list of account ids. id_of(account, kind, *idx) -> id string.
    Returns {account: [rows]} with 3 campaigns x 2 ad groups x 2 ads x 14 days."""
    out = {}
    names = ["Brand", "Prospecting", "Retargeting"]
    words = [["shoes", "running shoes"], ["buy shoes", "shoe store"], ["sneakers", "cheap sneakers"],
             ["boots", "winter boots"], ["sandals", "summer sandals"], ["trainers", "gym trainers"]]
    dates = seed_dates()
    for acct in accounts:
        rows = []
        for c in range(3):
            cid = id_of(acct, "campaign", c)
            for g in range(2):
                gid = id_of(acct, "ad_group", c, g)
                for a in range(2):
                    aid = id_of(acct, "ad", c, g, a)
                    kw = words[c * 2 + g][a]
                    for d in dates:
                        imp, clk, cost = daily_metrics(aid, d)
                        rows.append({
                            "date": d, "campaign_id": cid, "campaign_name": names[c],
                            "ad_group_id": gid, "ad_group_name": "%s group %d" % (names[c], g + 1),
                            "ad_id": aid, "ad_name": "%s ad %d.%d" % (names[c], g + 1, a + 1),
                            "keyword": kw, "match_type": ["EXACT", "PHRASE"][a],
                            "keyword_id": id_of(acct, "keyword", c, g, a),
                            "impressions": imp, "clicks": clk, "cost": cost})
        out[acct] = rows
    return out


def aggregate(rows, keys, since=None, until=None, by_date=True):
    """Group rows by `keys` (+ date if by_date) summing metrics, in a stable order."""
    groups = {}
    for r in rows:
        if since and r["date"] < since or until and r["date"] > until:
            continue
        k = tuple(r[x] for x in keys) + ((r["date"],) if by_date else ())
        g = groups.get(k)
        if g is None:
            g = dict(r)
            g["impressions"] = g["clicks"] = 0
            g["cost"] = Decimal(0)
            g["dates"] = set()
            groups[k] = g
        g["impressions"] += r["impressions"]
        g["clicks"] += r["clicks"]
        g["cost"] += r["cost"]
        g["dates"].add(r["date"])
    return [groups[k] for k in sorted(groups, key=lambda t: tuple(str(x) for x in t))]


# ----- HTTP plumbing -------------------------------------------------------
def make_handler(fake):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "WaymarkFake/1.0"

        def _read_body(self):
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                data = b""
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return data
                    data += self.rfile.read(size)
                    self.rfile.readline()
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def _do(self):
            start = time.time()
            body = self._read_body()
            req = Request(self.command, self.path, self.headers, body, self.client_address)
            resp = fake.handle(req)
            self.send_response(resp.status)
            for k, v in resp.headers.items():
                self.send_header(k, v)
            if resp.status != 204 and not (100 <= resp.status < 200):
                self.send_header("Content-Length", str(len(resp.body)))
            self.end_headers()
            if resp.body and resp.status != 204 and self.command != "HEAD":
                self.wfile.write(resp.body)
            sys.stderr.write("[%s] %s %s -> %d (%dms)\n" % (
                fake.name, self.command, self.path[:200], resp.status, (time.time() - start) * 1000))
            sys.stderr.flush()

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _do

        def log_message(self, fmt, *args):
            pass

    return Handler


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(fake, port, host="127.0.0.1"):
    srv = Server((host, port), make_handler(fake))
    t = threading.Thread(target=srv.serve_forever, name="%s-%d" % (fake.name, port), daemon=True)
    t.start()
    return srv
