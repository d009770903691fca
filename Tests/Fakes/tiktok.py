"""Fake TikTok for Business: advertiser authorization (/portal/auth),
Marketing API v1.3 (oauth2, advertiser info, integrated reports) and
Events API 2.0 (/event/track/). Every API answer is HTTP 200 with the
{code, message, request_id, data} envelope. See data/protocols.md section 5."""
import datetime as dt
import ipaddress
import json
import math
import re
import secrets
import time

from fakebase import (Fake, Token, json_response, html_response, redirect, add_query, valid_redirect_uri,
                      build_seed, aggregate, new_id)

APP_ID = "7000000000000000000"
APP_SECRET = "fake-tiktok-secret"
EVENTS_TOKEN = "fake-tiktok-events-token"
ADVERTISERS = {
    "7000000000000000001": {"name": "Main advertiser", "currency": "USD", "timezone": "America/New_York"},
    "7000000000000000002": {"name": "Second advertiser", "currency": "EUR", "timezone": "Europe/Berlin"},
}
LEVELS = {"AUCTION_ADVERTISER": ("advertiser_id", []), "AUCTION_CAMPAIGN": ("campaign_id", ["campaign_id"]),
          "AUCTION_ADGROUP": ("adgroup_id", ["campaign_id", "ad_group_id"]),
          "AUCTION_AD": ("ad_id", ["campaign_id", "ad_group_id", "ad_id"])}
ORDER = list(LEVELS)
BASE_METRICS = {"spend", "impressions", "clicks", "ctr", "cpc", "cpm", "reach", "conversion", "currency",
                "advertiser_name", "advertiser_id"}
ATTR_METRICS = {"campaign_name": 1, "campaign_id": 1, "objective_type": 1, "adgroup_name": 2, "adgroup_id": 2,
                "ad_name": 3, "ad_id": 3}
HEX64 = re.compile(r"^[0-9a-f]{64}$")
API = re.compile(r"^/open_api/v1\.\d+/(.+?)/?$")


def request_id():
    return time.strftime("%Y%m%d%H%M%S", time.gmtime()) + secrets.token_hex(8).upper()


def env(data=None, code=0, message="OK"):
    return json_response({"code": code, "message": message, "request_id": request_id(),
                          "data": {} if data is None else data})


def err(code, message):
    return env(None, code, message)


def json_param(q, name):
    """Array params are JSON-encoded in the query string."""
    if name not in q:
        return None
    try:
        v = json.loads(q[name])
    except ValueError:
        raise ValueError("%s: Not a valid list." % name)
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ValueError("%s: Not a valid list." % name)
    return v


class TikTokFake(Fake):
    name = "tiktok"

    def seed(self):
        def id_of(acct, kind, *i):
            code = {"campaign": "1", "ad_group": "2", "ad": "3", "keyword": "4"}[kind]
            i = i + (0, 0, 0)
            return "178%s%015d" % (code, int(acct[-1]) * 1000 + i[0] * 100 + i[1] * 10 + i[2])
        self.seed_rows = build_seed(list(ADVERTISERS), id_of)
        grant = {"id": "events", "advertisers": list(ADVERTISERS), "revoked": False}
        self.tokens[EVENTS_TOKEN] = Token(EVENTS_TOKEN, "system", APP_ID, grant, None)

    def route(self, req):
        if req.path.rstrip("/") == "/portal/auth":
            return self.authorize(req)
        m = API.match(req.path)
        if not m:
            return None
        ep = m.group(1)
        if ep == "oauth2/access_token":
            return self.exchange(req)
        if ep == "oauth2/revoke_token":
            return self.revoke(req)
        tok, e = self.auth(req)
        if e:
            return e
        if ep == "oauth2/advertiser/get":
            return self.advertisers(req, tok)
        if ep == "advertiser/info":
            return self.advertiser_info(req, tok)
        if ep == "report/integrated/get":
            return self.report(req, tok)
        if ep == "event/track":
            return self.track(req, tok)
        return err(40001, "Unsupported path in fake: %s" % req.path)

    def auth(self, req):
        value = req.headers.get("access-token")
        if not value:
            return None, err(40104, "Access token is null, you should set it in http header with key Access-Token.")
        with self.lock:
            tok = self.tokens.get(value)
            state = tok.state() if tok is not None and tok.kind in ("access", "system") else "invalid"
        if state == "expired":
            return None, err(40102, "Access token has expired.")
        if state != "ok":
            return None, err(40105, "Access token is incorrect or has been revoked.")
        return tok, None

    def fail_response(self, req, kind):
        if req.path.rstrip("/") == "/portal/auth":
            return html_response(500, "Something went wrong", "Simulated %s" % kind)
        if kind == "rate_limit":
            return err(40100, "Too many requests. Please retry in some time.")
        if kind == "server_error":
            return err(50000, "System error.")
        return err(40105, "Access token is incorrect or has been revoked.")

    def body(self, req):
        if req.content_type() != "application/json" or not isinstance(req.json, dict):
            raise ValueError("Request body must be a JSON object with Content-Type: application/json.")
        return req.json

    # ----- OAuth -----------------------------------------------------------
    def authorize(self, req):
        q = req.query
        if q.get("app_id") != APP_ID:
            return html_response(400, "Invalid app_id", "The app does not exist or is not approved.")
        if not valid_redirect_uri(q.get("redirect_uri")):
            return html_response(400, "Invalid redirect_uri", "redirect_uri is missing or not registered.")
        if not q.get("state"):
            return html_response(400, "Missing state", "The Waymark fake requires a state parameter (CSRF).")
        with self.lock:
            if self.deny:
                return redirect(add_query(q["redirect_uri"], {"error": "access_denied", "error_description":
                                                              "The user denied the authorization.",
                                                              "state": q["state"]}))
            grant = {"id": new_id(), "advertisers": list(ADVERTISERS), "revoked": False}
            code = self.issue("code", APP_ID, grant, 600, redirect_uri=q["redirect_uri"])
        return redirect(add_query(q["redirect_uri"], {"auth_code": code.value, "code": code.value,
                                                      "state": q["state"]}))

    def app_check(self, d):
        for k in ("app_id", "secret"):
            if not d.get(k):
                return err(40001, "%s: Missing data for required field." % k)
        if str(d["app_id"]) != APP_ID or d["secret"] != APP_SECRET:
            return err(40101, "The app_id or secret is invalid.")
        return None

    def exchange(self, req):
        try:
            d = self.body(req)
        except ValueError as e:
            return err(40001, str(e))
        e = self.app_check(d)
        if e:
            return e
        if not d.get("auth_code"):
            return err(40001, "auth_code: Missing data for required field.")
        with self.lock:
            code = self.lookup(d["auth_code"], "code")
            if code is None or code.used or code.state() != "ok":
                return err(40110, "Auth code is invalid, expired or has been used.")
            code.used = True
            tok = self.issue("access", APP_ID, code.grant, None)
        return env({"access_token": tok.value, "advertiser_ids": list(code.grant["advertisers"]),
                    "scope": [1, 2, 3, 4, 5, 6, 7, 8]})

    def revoke(self, req):
        try:
            d = self.body(req)
        except ValueError as e:
            return err(40001, str(e))
        e = self.app_check(d)
        if e:
            return e
        with self.lock:
            tok = self.tokens.get(d.get("access_token") or "")
            if tok is None or tok.kind not in ("access", "system") or tok.state() == "revoked":
                return err(40105, "Access token is incorrect or has been revoked.")
            tok.grant["revoked"] = True
        return env({})

    # ----- Marketing API ------------------------------------------------------
    def advertisers(self, req, tok):
        e = self.app_check(req.query)
        if e:
            return e
        return env({"list": [{"advertiser_id": a, "advertiser_name": ADVERTISERS[a]["name"]}
                             for a in tok.grant["advertisers"]]})

    def allowed(self, tok, adv):
        return adv in ADVERTISERS and adv in tok.grant["advertisers"]

    def advertiser_info(self, req, tok):
        try:
            ids = json_param(req.query, "advertiser_ids")
            fields = json_param(req.query, "fields")
        except ValueError as e:
            return err(40001, str(e))
        if not ids:
            return err(40001, "advertiser_ids: Missing data for required field.")
        out = []
        for a in ids:
            if not self.allowed(tok, a):
                return err(40002, "No permission to operate advertiser %s." % a)
            info = ADVERTISERS[a]
            full = {"advertiser_id": a, "name": info["name"], "currency": info["currency"],
                    "timezone": info["timezone"], "display_timezone": info["timezone"], "status": "STATUS_ENABLE",
                    "company": "Fake Company", "country": "US", "create_time": 1700000000}
            out.append({k: v for k, v in full.items() if not fields or k in fields or k == "advertiser_id"})
        return env({"list": out})

    def report(self, req, tok):
        q = req.query
        try:
            dims = json_param(q, "dimensions")
            metrics = json_param(q, "metrics") or ["spend", "impressions"]
        except ValueError as e:
            return err(40001, str(e))
        adv = q.get("advertiser_id")
        if not adv:
            return err(40001, "advertiser_id: Missing data for required field.")
        if not self.allowed(tok, adv):
            return err(40002, "No permission to operate advertiser %s." % adv)
        if q.get("report_type") != "BASIC":
            return err(40001, "report_type: fake supports BASIC only (got %r)." % q.get("report_type"))
        level = q.get("data_level")
        if level not in LEVELS:
            return err(40001, "data_level: Must be one of: %s." % ", ".join(LEVELS))
        id_dim, keys = LEVELS[level]
        if not dims:
            return err(40001, "dimensions: Missing data for required field.")
        bad = [x for x in dims if x not in (id_dim, "stat_time_day")]
        if bad or len(set(dims)) != len(dims):
            return err(40001, "dimensions: Invalid dimension(s) %s for data_level %s." % (bad or dims, level))
        depth = ORDER.index(level)
        for mname in metrics:
            if not (mname in BASE_METRICS or ATTR_METRICS.get(mname, 99) <= depth):
                return err(40001, "metrics: Invalid metric %s for data_level %s." % (mname, level))
        try:
            if q.get("query_lifetime") == "true":
                since, until = dt.date(2000, 1, 1), dt.date(2100, 1, 1)
            else:
                since, until = dt.date.fromisoformat(q["start_date"]), dt.date.fromisoformat(q["end_date"])
            page, size = int(q.get("page", 1)), int(q.get("page_size", 10))
        except KeyError as e:
            return err(40001, "%s: Missing data for required field." % e.args[0])
        except ValueError as e:
            return err(40001, "Invalid parameter: %s" % e)
        if since > until:
            return err(40001, "start_date must be earlier than or equal to end_date.")
        if "stat_time_day" in dims and (until - since).days >= 30 and q.get("query_lifetime") != "true":
            return err(40001, "The time range cannot exceed 30 days when stat_time_day is a dimension.")
        if page < 1 or not 1 <= size <= 1000:
            return err(40001, "page must be >= 1 and page_size between 1 and 1000.")
        by_date = "stat_time_day" in dims
        group_keys = keys if id_dim in dims else []
        with self.lock:
            rows = self.rows_for(adv)
        groups = [g for g in aggregate(rows, group_keys, since, until, by_date=by_date) if g["impressions"]]
        data = [self.report_row(adv, g, dims, metrics, id_dim) for g in groups]
        chunk = data[(page - 1) * size: page * size]
        return env({"list": chunk, "page_info": {"page": page, "page_size": size, "total_number": len(data),
                                                 "total_page": math.ceil(len(data) / size)}})

    def report_row(self, adv, g, dims, metrics, id_dim):
        src = {"advertiser_id": adv, "campaign_id": g.get("campaign_id"), "adgroup_id": g.get("ad_group_id"),
               "ad_id": g.get("ad_id")}
        d = {}
        for x in dims:
            d[x] = (min(g["dates"]).isoformat() + " 00:00:00") if x == "stat_time_day" else src[x]
        imp, clk, cost = g["impressions"], g["clicks"], g["cost"]
        vals = {"spend": "%.2f" % cost, "impressions": str(imp), "clicks": str(clk),
                "ctr": "%.2f" % (clk * 100 / imp if imp else 0), "cpc": "%.2f" % (float(cost) / clk if clk else 0),
                "cpm": "%.2f" % (float(cost) * 1000 / imp if imp else 0), "reach": str(imp * 4 // 5),
                "conversion": "0", "currency": ADVERTISERS[adv]["currency"],
                "advertiser_name": ADVERTISERS[adv]["name"], "advertiser_id": adv,
                "campaign_name": g.get("campaign_name"), "campaign_id": g.get("campaign_id"),
                "objective_type": "WEB_CONVERSIONS", "adgroup_name": g.get("ad_group_name"),
                "adgroup_id": g.get("ad_group_id"), "ad_name": g.get("ad_name"), "ad_id": g.get("ad_id")}
        return {"dimensions": d, "metrics": {m: vals[m] for m in metrics}}

    # ----- Events API 2.0 ---------------------------------------------------------
    def track(self, req, tok):
        try:
            d = self.body(req)
        except ValueError as e:
            return err(40001, str(e))
        if d.get("event_source") not in ("web", "app", "offline", "crm"):
            return err(40001, "event_source: Must be one of: web, app, offline, crm.")
        if not isinstance(d.get("event_source_id"), str) or not d["event_source_id"]:
            return err(40001, "event_source_id: Missing data for required field.")
        data = d.get("data")
        if not isinstance(data, list) or not data:
            return err(40001, "data: Missing data for required field.")
        if len(data) > 1000:
            return err(40001, "data: Length must be between 1 and 1000.")
        for i, ev in enumerate(data):
            problem = self.check_event(ev, d["event_source"])
            if problem:
                return err(40001, "data[%d].%s" % (i, problem))
        with self.lock:
            for ev in data:
                self.record_event("event/track", d["event_source_id"], ev, event_source=d["event_source"],
                                  test_event_code=d.get("test_event_code"))
        return env({})

    def check_event(self, ev, source):
        if not isinstance(ev, dict):
            return "event: Must be an object."
        if not isinstance(ev.get("event"), str) or not ev["event"]:
            return "event: Missing data for required field."
        t = ev.get("event_time")
        if not isinstance(t, int) or isinstance(t, bool) or t < 10**9 or t > 10**10:
            return "event_time: Must be an integer Unix timestamp in seconds."
        if "event_id" in ev and not isinstance(ev["event_id"], str):
            return "event_id: Not a valid string."
        user = ev.get("user", {})
        if not isinstance(user, dict):
            return "user: Must be an object."
        for k in ("email", "phone", "external_id"):
            if k in user:
                v = user[k] if isinstance(user[k], list) else [user[k]]
                if not v or not all(isinstance(x, str) and HEX64.match(x) for x in v):
                    return "user.%s: Must be a lowercase SHA-256 hex hash (or a list of them)." % k
        for k in ("ttclid", "ttp", "user_agent"):
            if k in user and not isinstance(user[k], str):
                return "user.%s: Not a valid string." % k
        if "ip" in user:
            try:
                ipaddress.ip_address(str(user["ip"]))
            except ValueError:
                return "user.ip: Not a valid IP address."
        page = ev.get("page", {})
        if not isinstance(page, dict) or ("url" in page and not re.match(r"^https?://", str(page["url"]))):
            return "page.url: Not a valid URL."
        props = ev.get("properties", {})
        if not isinstance(props, dict):
            return "properties: Must be an object."
        if "value" in props and (not isinstance(props["value"], (int, float)) or isinstance(props["value"], bool)):
            return "properties.value: Not a valid number."
        if "currency" in props and not re.fullmatch(r"[A-Z]{3}", str(props["currency"])):
            return "properties.currency: Must be an ISO 4217 code."
        return None
