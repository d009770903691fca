"""Fake Meta: Facebook Login dialog (www.facebook.com) and Graph API
(graph.facebook.com): tokens, debug_token, ad accounts, Insights, Conversions
API, permission revocation. See data/protocols.md section 3."""
import datetime as dt
import json
import re
import time
import urllib.parse
from decimal import Decimal

from meta_capi import CapiMixin
from fakebase import (Fake, Token, json_response, html_response, redirect, add_query, valid_redirect_uri, build_seed,
                      aggregate, new_id, b64, unb64, utc_today)

APP_ID = "111111111111111"
APP_SECRET = "fake-meta-secret"
SYSTEM_TOKEN = "fake-meta-system-user-token"
USER_ID = "10000000000000001"
LONG_LIVED = 5183944
ACCOUNTS = {
    "123456789": {"name": "Main ad account", "currency": "USD", "timezone_name": "America/Los_Angeles", "tz": -7},
    "987654321": {"name": "Second ad account", "currency": "EUR", "timezone_name": "Europe/Berlin", "tz": 2},
}
ACCOUNT_FIELDS = {"id", "account_id", "name", "currency", "account_status", "timezone_name",
                  "timezone_offset_hours_utc", "amount_spent", "business_name", "disable_reason"}
INSIGHT_FIELDS = ["account_id", "account_name", "account_currency", "campaign_id", "campaign_name", "adset_id",
                  "adset_name", "ad_id", "ad_name", "impressions", "clicks", "spend", "ctr", "cpc", "cpm", "reach",
                  "frequency", "date_start", "date_stop", "objective"]
LEVELS = {"account": [], "campaign": ["campaign_id"], "adset": ["campaign_id", "ad_group_id"],
          "ad": ["campaign_id", "ad_group_id", "ad_id"]}
LEVEL_FIELDS = {"account": {"account_id", "account_name", "account_currency"},
                "campaign": {"campaign_id", "campaign_name", "objective"}, "adset": {"adset_id", "adset_name"},
                "ad": {"ad_id", "ad_name"}}
GRAPH_PATH = re.compile(r"^(/v\d+\.\d+)?(/.*)$")


def gerr(message, code, subcode=None, status=400, etype="OAuthException", title=None, user_msg=None,
         transient=None, headers=None):
    e = {"message": message, "type": etype, "code": code}
    if subcode is not None:
        e["error_subcode"] = subcode
    if transient is not None:
        e["is_transient"] = transient
    if title:
        e["error_user_title"], e["error_user_msg"] = title, user_msg
    e["fbtrace_id"] = new_id(nbytes=8)
    hdrs = dict(headers or {})
    if code in (190, 102, 104):
        hdrs["WWW-Authenticate"] = 'OAuth "Facebook Platform" "invalid_token" "%s"' % message.replace('"', "'")
    return json_response({"error": e}, status, hdrs)


def fmt_num(d):
    """Graph renders decimals as strings without trailing zeros: 12.30 -> '12.3'."""
    d = Decimal(d).quantize(Decimal("0.01"))
    s = format(d, "f")
    return s.rstrip("0").rstrip(".") if "." in s else s


def fmt_ratio(x):
    return ("%.6f" % x).rstrip("0").rstrip(".")


class MetaFake(CapiMixin, Fake):
    name = "meta"
    gerr = staticmethod(gerr)

    def seed(self):
        def id_of(acct, kind, *i):
            code = {"campaign": "5", "ad_group": "6", "ad": "7", "keyword": "8"}[kind]
            n = (1 if acct == "123456789" else 2) * 1000 + (i + (0, 0, 0))[0] * 100 + \
                (i + (0, 0, 0))[1] * 10 + (i + (0, 0, 0))[2]
            return "238%s%013d" % (code, n)
        self.seed_rows = build_seed(list(ACCOUNTS), id_of)
        grant = {"id": "system", "scopes": ["ads_read", "ads_management", "business_management"], "revoked": False}
        self.tokens[SYSTEM_TOKEN] = Token(SYSTEM_TOKEN, "system", APP_ID, grant, None)

    def normalise_account(self, acct):
        return acct[4:] if acct.startswith("act_") else acct

    # ----- routing -------------------------------------------------------
    def route(self, req):
        m = GRAPH_PATH.match(req.path)
        ver, p = m.group(1) or "", m.group(2)
        if p == "/dialog/oauth":
            return self.dialog(req)
        if p == "/oauth/access_token":
            return self.access_token(req)
        if p == "/debug_token":
            return self.debug_token(req)
        tok, err = self.auth(req)
        if err:
            return err
        if p == "/me" and req.method == "GET":
            return json_response({"id": USER_ID, "name": "Fake Meta User"})
        mm = re.match(r"^/(?:me|%s)/permissions(?:/(\w+))?$" % USER_ID, p)
        if mm:
            return self.permissions(req, tok, mm.group(1))
        if p == "/me/adaccounts" and req.method == "GET":
            return self.adaccounts(req, tok, ver)
        mm = re.match(r"^/act_([^/]+)(/insights)?$", p)
        if mm and req.method == "GET":
            acct = mm.group(1)
            if acct not in ACCOUNTS:
                return gerr("Unsupported get request. Object with ID 'act_%s' does not exist, cannot be loaded due "
                            "to missing permissions, or does not support this operation." % acct, 100, 33)
            if not {"ads_read", "ads_management"} & set(tok.grant["scopes"]):
                return gerr("(#200) Ad account owner has NOT grant ads_management or ads_read permission", 200)
            if mm.group(2):
                return self.insights(req, acct, ver)
            return json_response(self.account_obj(acct, req.query.get("fields", "id,account_id").split(",")))
        mm = re.match(r"^/(\d+)/events$", p)
        if mm and req.method == "POST":
            return self.capi(req, mm.group(1), tok)
        return gerr("Unsupported %s request. Object with ID '%s' does not exist, cannot be loaded due to missing "
                    "permissions, or does not support this operation." % (req.method.lower(), p.strip("/")), 100, 33)

    def params(self, req):
        q = dict(req.query)
        if req.method == "POST" and req.content_type() == "application/x-www-form-urlencoded":
            q.update(req.form())
        return q

    def auth(self, req):
        value = self.params(req).get("access_token") or req.bearer()
        if not value:
            return None, gerr("An access token is required to request this resource.", 104)
        with self.lock:
            tok = self.tokens.get(value)
            if tok is None or tok.kind not in ("access", "system"):
                return None, gerr("Invalid OAuth access token - Cannot parse access token", 190, 467)
            state = tok.state()
        if state == "expired":
            when = time.strftime("%A, %d-%b-%y %H:%M:%S UTC", time.gmtime(tok.expires_at))
            return None, gerr("Error validating access token: Session has expired on %s. The current time is %s."
                              % (when, time.strftime("%A, %d-%b-%y %H:%M:%S UTC", time.gmtime())), 190, 463)
        if state == "revoked":
            return None, gerr("Error validating access token: The user has not authorized application %s." % APP_ID,
                              190, 458)
        return tok, None

    def fail_response(self, req, kind):
        if req.path.endswith("/dialog/oauth"):
            return html_response(500, "Sorry, something went wrong.", "Simulated %s" % kind)
        if kind == "rate_limit":
            if "/act_" in req.path:
                return gerr("(#80004) There have been too many calls to this ad-account. Wait a bit and try again. "
                            "For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/"
                            "rate-limiting.", 80004, 2446079, headers={"x-business-use-case-usage": json.dumps(
                                {"123456789": [{"type": "ads_insights", "call_count": 100, "total_cputime": 100,
                                                "total_time": 100, "estimated_time_to_regain_access": 5}]})})
            return gerr("(#17) User request limit reached", 17, 2446079,
                        headers={"x-app-usage": '{"call_count":100,"total_cputime":100,"total_time":100}'})
        if kind == "server_error":
            return gerr("An unexpected error has occurred. Please retry your request later.", 2, status=500,
                        transient=True)
        return gerr("Error validating access token: Session has expired.", 190, 463)

    # ----- login ---------------------------------------------------------
    def dialog(self, req):
        q = req.query
        if q.get("client_id") != APP_ID:
            return html_response(400, "Invalid App ID", "The provided app ID does not look like a valid app ID.")
        if not valid_redirect_uri(q.get("redirect_uri")):
            return html_response(400, "URL Blocked", "This redirect failed because the redirect URI is missing or "
                                 "not whitelisted in the app's Client OAuth Settings.")
        if not q.get("state"):
            return html_response(400, "Missing state", "The Waymark fake requires a state parameter (CSRF).")
        if q.get("response_type", "code") != "code":
            return html_response(400, "Unsupported response_type", "The fake supports response_type=code only.")
        scopes = [s for s in re.split(r"[,\s]+", q.get("scope", "public_profile")) if s]
        with self.lock:
            if self.deny:
                return redirect(add_query(q["redirect_uri"], {
                    "error": "access_denied", "error_code": "200", "error_description": "Permissions error",
                    "error_reason": "user_denied", "state": q["state"]}, fragment="_=_"))
            grant = {"id": new_id(), "scopes": scopes, "revoked": False}
            code = self.issue("code", APP_ID, grant, 600, prefix="AQD", redirect_uri=q["redirect_uri"])
        return redirect(add_query(q["redirect_uri"], {"code": code.value, "state": q["state"]}, fragment="_=_"))

    def access_token(self, req):
        q = self.params(req)
        if q.get("client_id") != APP_ID:
            return gerr("Error validating application. Invalid application ID.", 101)
        if q.get("client_secret") != APP_SECRET:
            return gerr("Error validating client secret.", 1)
        gt = q.get("grant_type")
        with self.lock:
            if gt == "client_credentials":
                tok = self.issue("app", APP_ID, {"id": "app", "scopes": [], "revoked": False}, None,
                                 prefix=APP_ID + "|")
                return json_response({"access_token": tok.value, "token_type": "bearer"})
            if gt == "fb_exchange_token":
                short = self.tokens.get(q.get("fb_exchange_token") or "")
                if short is None or short.kind != "access":
                    return gerr("Invalid OAuth access token - Cannot parse access token", 190, 467)
                if short.state() == "expired":
                    return gerr("Error validating access token: Session has expired.", 190, 463)
                if short.state() == "revoked":
                    return gerr("Error validating access token: The user has not authorized application %s."
                                % APP_ID, 190, 458)
                tok = self.issue("access", APP_ID, short.grant, LONG_LIVED, prefix="EAAB", long_lived=True)
                return json_response({"access_token": tok.value, "token_type": "bearer", "expires_in": LONG_LIVED})
            if gt not in (None, "authorization_code"):
                return gerr("(#100) Invalid grant_type", 100)
            if not q.get("code"):
                return gerr("Missing authorization code", 100)
            code = self.lookup(q["code"], "code")
            if code is None:
                return gerr("Invalid verification code format.", 100)
            if code.used:
                return gerr("This authorization code has been used.", 100, 36009)
            if code.state() != "ok":
                return gerr("This authorization code has expired.", 100, 36007)
            if q.get("redirect_uri") != code.extra["redirect_uri"]:
                return gerr("Error validating verification code. Please make sure your redirect_uri is identical to "
                            "the one you used in the OAuth dialog request", 100, 36008)
            code.used = True
            tok = self.issue("access", APP_ID, code.grant, self.token_lifetime, prefix="EAAB")
        return json_response({"access_token": tok.value, "token_type": "bearer", "expires_in": self.token_lifetime})

    def debug_token(self, req):
        q = req.query
        app = q.get("access_token") or req.bearer() or ""
        with self.lock:
            app_tok = self.tokens.get(app)
            if app != "%s|%s" % (APP_ID, APP_SECRET) and not (app_tok and app_tok.kind in ("app", "access", "system")
                                                                and app_tok.state() == "ok"):
                return gerr("Invalid OAuth access token - Cannot parse access token", 190, 467)
            tok = self.tokens.get(q.get("input_token") or "")
            if tok is None or tok.kind not in ("access", "system"):
                return json_response({"data": {"error": {"code": 190, "message": "Invalid OAuth access token."},
                                               "is_valid": False, "scopes": []}})
            state = tok.state()
            data = {"app_id": APP_ID, "type": "SYSTEM_USER" if tok.kind == "system" else "USER",
                    "application": "Waymark Fake App", "data_access_expires_at": int(tok.issued) + 90 * 86400,
                    "expires_at": int(tok.expires_at or 0), "is_valid": state == "ok", "issued_at": int(tok.issued),
                    "scopes": list(tok.grant["scopes"]), "user_id": USER_ID,
                    "granular_scopes": [{"scope": s, "target_ids": ["act_" + a for a in ACCOUNTS]}
                                        for s in tok.grant["scopes"] if s.startswith("ads_")]}
            if state != "ok":
                data["error"] = {"code": 190, "message": "Error validating access token: %s" % (
                    "Session has expired." if state == "expired" else "The user has not authorized application."),
                    "subcode": 463 if state == "expired" else 458}
        return json_response({"data": data})

    def permissions(self, req, tok, perm):
        with self.lock:
            if req.method == "DELETE":
                if perm:
                    tok.grant["scopes"] = [s for s in tok.grant["scopes"] if s != perm]
                else:
                    tok.grant["revoked"] = True
                return json_response({"success": True})
        return json_response({"data": [{"permission": s, "status": "granted"} for s in tok.grant["scopes"]]})

    # ----- ad accounts & insights -----------------------------------------
    def account_obj(self, acct, fields):
        a = ACCOUNTS[acct]
        full = {"id": "act_" + acct, "account_id": acct, "name": a["name"], "currency": a["currency"],
                "account_status": 1, "timezone_name": a["timezone_name"], "timezone_offset_hours_utc": a["tz"],
                "amount_spent": "0", "business_name": "Fake Business", "disable_reason": 0}
        return {f: full[f] for f in ["id"] + fields if f in full}

    def page(self, req, ver, items, default_limit=25):
        q = req.query
        try:
            limit = int(q.get("limit", default_limit))
            start = int(unb64(q["after"])) if q.get("after") else 0
        except (TypeError, ValueError):
            return None, gerr("(#100) Invalid cursor or limit", 100)
        if limit <= 0:
            return None, gerr("(#100) limit must be positive", 100)
        chunk = items[start:start + limit]
        paging = {"cursors": {"before": b64(str(start)), "after": b64(str(start + len(chunk)))}}
        base = "https://graph.facebook.com%s%s?" % (ver, req.path[len(ver):] if ver else req.path)
        if start + limit < len(items):
            nq = dict(q, after=b64(str(start + limit)), limit=str(limit))
            paging["next"] = base + urllib.parse.urlencode(nq)
        return {"data": chunk, "paging": paging} if chunk else {"data": []}, None

    def adaccounts(self, req, tok, ver):
        if not {"ads_read", "ads_management", "business_management"} & set(tok.grant["scopes"]):
            return json_response({"data": []})
        fields = [f for f in req.query.get("fields", "account_id,id").split(",") if f]
        for f in fields:
            if f not in ACCOUNT_FIELDS:
                return gerr("(#100) Tried accessing nonexisting field (%s) on node type (AdAccount)" % f, 100)
        out, err = self.page(req, ver, [self.account_obj(a, fields) for a in ACCOUNTS])
        return err or json_response(out)

    def date_range(self, q):
        today = utc_today()
        if q.get("time_range"):
            try:
                tr = json.loads(q["time_range"])
                since, until = dt.date.fromisoformat(tr["since"]), dt.date.fromisoformat(tr["until"])
            except (ValueError, KeyError, TypeError):
                raise ValueError("(#100) Param time_range must be a JSON object like {'since':'YYYY-MM-DD',"
                                 "'until':'YYYY-MM-DD'}")
            if since > until:
                raise ValueError("(#100) Param time_range: since must be on or before until")
            return since, until
        p = q.get("date_preset", "last_30d")
        days = {"today": (0, 0), "yesterday": (1, 1), "last_3d": (3, 1), "last_7d": (7, 1), "last_14d": (14, 1),
                "last_28d": (28, 1), "last_30d": (30, 1), "last_90d": (90, 1)}
        if p in days:
            return today - dt.timedelta(days[p][0]), today - dt.timedelta(days[p][1])
        if p == "this_month":
            return today.replace(day=1), today
        if p == "last_month":
            end = today.replace(day=1) - dt.timedelta(1)
            return end.replace(day=1), end
        if p in ("maximum", "data_maximum"):
            return dt.date(2000, 1, 1), today
        raise ValueError("(#100) date_preset must be one of the following values: today, yesterday, this_month, "
                         "last_month, maximum, data_maximum, last_3d, last_7d, last_14d, last_28d, last_30d, last_90d")

    def insights(self, req, acct, ver):
        q = req.query
        level = q.get("level", "account")
        if level not in LEVELS:
            return gerr("(#100) param level must be one of {ad, adset, campaign, account}", 100)
        fields = [f for f in q.get("fields", "impressions,spend").split(",") if f]
        for i, f in enumerate(fields):
            if f not in INSIGHT_FIELDS:
                return gerr("(#100) fields[%d] must be one of the following values: %s" % (i, ", ".join(INSIGHT_FIELDS)), 100)
        try:
            since, until = self.date_range(q)
        except ValueError as e:
            return gerr(str(e), 100)
        inc = q.get("time_increment", "all_days")
        if not (inc in ("all_days", "monthly") or inc.isdigit() and 1 <= int(inc) <= 90):
            return gerr("(#100) time_increment must be 'monthly', 'all_days' or an integer between 1 and 90", 100)
        with self.lock:
            rows = self.rows_for(acct)
        buckets = {}
        for r in rows:
            if r["date"] < since or r["date"] > until:
                continue
            if inc == "all_days":
                b = (since, until)
            elif inc == "monthly":
                s = r["date"].replace(day=1)
                e = (s.replace(day=28) + dt.timedelta(4)).replace(day=1) - dt.timedelta(1)
                b = (max(s, since), min(e, until))
            else:
                n = (r["date"] - since).days // int(inc)
                s = since + dt.timedelta(n * int(inc))
                b = (s, min(s + dt.timedelta(int(inc) - 1), until))
            buckets.setdefault(b, []).append(r)
        allowed = set().union(*[LEVEL_FIELDS[lv] for lv in ("account", "campaign", "adset", "ad")
                                if list(LEVELS).index(lv) <= list(LEVELS).index(level)])
        data = []
        for b in sorted(buckets):
            for g in aggregate(buckets[b], LEVELS[level], by_date=False):
                if g["impressions"] == 0:
                    continue  # no delivery -> no row
                data.append(self.insight_row(acct, g, fields, allowed, b))
        out, err = self.page(req, ver, data)
        return err or json_response(out)

    def insight_row(self, acct, g, fields, allowed, bucket):
        a = ACCOUNTS[acct]
        imp, clk, cost = g["impressions"], g["clicks"], g["cost"]
        reach = max(1, imp * 4 // 5)
        vals = {"account_id": acct, "account_name": a["name"], "account_currency": a["currency"],
                "campaign_id": g.get("campaign_id"), "campaign_name": g.get("campaign_name"),
                "objective": "OUTCOME_SALES", "adset_id": g.get("ad_group_id"), "adset_name": g.get("ad_group_name"),
                "ad_id": g.get("ad_id"), "ad_name": g.get("ad_name"), "impressions": str(imp), "clicks": str(clk),
                "spend": fmt_num(cost), "reach": str(reach), "frequency": fmt_ratio(imp / reach),
                "ctr": fmt_ratio(clk * 100 / imp), "cpm": fmt_ratio(float(cost) * 1000 / imp)}
        if clk:
            vals["cpc"] = fmt_ratio(float(cost) / clk)
        row = {f: vals[f] for f in fields if f in vals and (f not in
               set().union(*LEVEL_FIELDS.values()) or f in allowed)}
        row["date_start"], row["date_stop"] = bucket[0].isoformat(), bucket[1].isoformat()
        return row
