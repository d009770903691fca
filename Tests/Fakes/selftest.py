#!/usr/bin/env python3
"""Self-test for Tests/Fakes/fakes.py: starts it on free ports and drives each
provider's whole life over HTTP.   python3 Tests/Fakes/selftest.py"""
import base64
import datetime as dt
import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
PORTS = {}
PROC = None
G_CLIENT, G_SECRET = "fake-google-client.apps.googleusercontent.com", "fake-google-secret"
ADS = "https://www.googleapis.com/auth/adwords"
DM = "https://www.googleapis.com/auth/datamanager"
CB = "https://tracker.example.com/oauth/callback"
TODAY = dt.datetime.now(dt.timezone.utc).date()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def call(provider, method, path, body=None, headers=None, form=None):
    """-> (status, headers(lowercased), parsed-json-or-text)."""
    headers = dict(headers or {})
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    elif body is not None and not isinstance(body, (str, bytes)):
        body = json.dumps(body)
        headers.setdefault("Content-Type", "application/json")
    conn = http.client.HTTPConnection("127.0.0.1", PORTS[provider], timeout=10)
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read().decode()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    conn.close()
    try:
        data = json.loads(data) if data else None
    except ValueError:
        pass
    return r.status, hdrs, data


def q(params):
    return urllib.parse.urlencode(params)


def redirect_params(hdrs):
    loc = urllib.parse.urlsplit(hdrs["location"])
    return {k: v[0] for k, v in urllib.parse.parse_qs(loc.query).items()}, loc.fragment


def setUpModule():
    global PROC
    for p in ("google", "meta", "tiktok", "ga4"):
        PORTS[p] = free_port()
    args = [sys.executable, os.path.join(HERE, "fakes.py")]
    for p, port in PORTS.items():
        args += ["--" + p, str(port)]
    # stderr (one line per request) is discarded unless FAKES_LOG names a file
    log = open(os.environ["FAKES_LOG"], "w") if os.environ.get("FAKES_LOG") else subprocess.DEVNULL
    PROC = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=log, text=True)
    if log is not subprocess.DEVNULL:
        log.close()
    line = PROC.stdout.readline().strip()
    assert line == "ready", "fakes.py said %r" % line


def tearDownModule():
    PROC.terminate()
    rc = PROC.wait(10)
    PROC.stdout.close()
    assert rc == 0, "fakes.py did not exit cleanly"


class Base(unittest.TestCase):
    provider = None

    def setUp(self):
        for p in PORTS:
            call(p, "POST", "/__fake/reset")

    def control(self, path, body=None, method="POST"):
        return call(self.provider, method, "/__fake/" + path, body if body is not None else {})[2]


class GoogleTest(Base):
    provider = "google"

    def authorize(self, scope=ADS + " " + DM, pkce=True, **extra):
        params = {"client_id": G_CLIENT, "redirect_uri": CB, "response_type": "code", "scope": scope,
                  "state": "st-1", "access_type": "offline", "prompt": "consent", **extra}
        verifier = "v" * 50
        if pkce:
            params["code_challenge"] = base64.urlsafe_b64encode(
                hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
            params["code_challenge_method"] = "S256"
        st, h, _ = call("google", "GET", "/o/oauth2/v2/auth?" + q(params))
        self.assertEqual(st, 302)
        got, _ = redirect_params(h)
        return got, verifier

    def login(self):
        got, verifier = self.authorize()
        st, _, tok = call("google", "POST", "/token", form={
            "code": got["code"], "client_id": G_CLIENT, "client_secret": G_SECRET, "redirect_uri": CB,
            "grant_type": "authorization_code", "code_verifier": verifier})
        self.assertEqual(st, 200, tok)
        return tok

    def ads(self, token, path, body=None, method="POST", headers=None):
        h = {"Authorization": "Bearer " + token, "developer-token": "dev"}
        h.update(headers or {})
        return call("google", method, path, body, h)

    def gaql(self, token, query, cid="1234567890", stream=True, **extra):
        return self.ads(token, "/v26/customers/%s/googleAds:%s" % (cid, "searchStream" if stream else "search"),
                        dict(query=query, **extra))

    def test_oauth_errors(self):
        st, _, _ = call("google", "GET", "/o/oauth2/v2/auth?" + q({"client_id": "nope", "redirect_uri": CB}))
        self.assertEqual(st, 401)
        st, _, _ = call("google", "GET", "/o/oauth2/v2/auth?" + q({"client_id": G_CLIENT, "redirect_uri": CB,
                                                                     "response_type": "code", "scope": ADS}))
        self.assertEqual(st, 400)  # no state
        got, verifier = self.authorize()
        self.assertEqual(got["state"], "st-1")
        base = {"code": got["code"], "client_id": G_CLIENT, "redirect_uri": CB, "grant_type": "authorization_code"}
        st, _, body = call("google", "POST", "/token", form=dict(base, client_secret="wrong"))
        self.assertEqual((st, body["error"]), (401, "invalid_client"))
        st, _, body = call("google", "POST", "/token", form=dict(base, client_secret=G_SECRET))
        self.assertEqual((st, body["error"]), (400, "invalid_grant"))  # missing verifier
        st, _, body = call("google", "POST", "/token", form=dict(base, client_secret=G_SECRET, code_verifier="x" * 43))
        self.assertEqual((st, body["error_description"]), (400, "Invalid code verifier."))
        st, _, body = call("google", "POST", "/token", form=dict(base, client_secret=G_SECRET, code_verifier=verifier))
        self.assertEqual(st, 200)
        self.assertTrue(body["refresh_token"] and body["access_token"] and body["expires_in"] == 3600)
        st, _, body = call("google", "POST", "/token", form=dict(base, client_secret=G_SECRET, code_verifier=verifier))
        self.assertEqual((st, body["error"]), (400, "invalid_grant"))  # code reuse
        got, _ = self.authorize(pkce=False, access_type="online")
        st, _, body = call("google", "POST", "/token", form=dict(base, code=got["code"], client_secret=G_SECRET))
        self.assertEqual(st, 200)
        self.assertNotIn("refresh_token", body)
        self.control("consent", {"deny": True})
        st, h, _ = call("google", "GET", "/o/oauth2/v2/auth?" + q({"client_id": G_CLIENT, "redirect_uri": CB,
                                                                     "response_type": "code", "scope": ADS,
                                                                     "state": "s9"}))
        self.assertEqual(redirect_params(h)[0], {"error": "access_denied", "state": "s9"})

    def test_lifecycle(self):
        tok = self.login()
        at = tok["access_token"]
        st, h, body = self.ads(at, "/v26/customers:listAccessibleCustomers", method="GET")
        self.assertEqual(body, {"resourceNames": ["customers/1234567890", "customers/9876543210"]})
        st, _, body = self.gaql(at, "SELECT customer.id, customer.descriptive_name, customer.currency_code, "
                                    "customer.time_zone, customer.manager FROM customer", cid="9876543210")
        self.assertEqual(st, 200)
        self.assertEqual(body[0]["results"][0]["customer"], {
            "resourceName": "customers/9876543210", "id": "9876543210", "descriptiveName": "Second account",
            "currencyCode": "EUR", "timeZone": "Europe/Berlin"})
        a, b = (TODAY - dt.timedelta(6)).isoformat(), TODAY.isoformat()
        st, _, body = self.gaql(at, "SELECT campaign.id, campaign.name, segments.date, metrics.impressions, "
                                    "metrics.clicks, metrics.cost_micros FROM campaign WHERE segments.date "
                                    "BETWEEN '%s' AND '%s'" % (a, b))
        rows = body[0]["results"]
        self.assertEqual(len(rows), 21)
        self.assertEqual(body[0]["fieldMask"], "campaign.id,campaign.name,segments.date,metrics.impressions,"
                                               "metrics.clicks,metrics.costMicros")
        self.assertEqual({r["campaign"]["id"] for r in rows}, {"111", "222", "333"})
        self.assertIsInstance(rows[0]["metrics"]["costMicros"], str)
        camp_total = sum(int(r["metrics"]["costMicros"]) for r in rows)
        # ad level over the same range aggregates to the same cost
        st, _, body = self.gaql(at, "SELECT campaign.id, ad_group.id, ad_group_ad.ad.id, ad_group_ad.ad.name, "
                                    "segments.date, metrics.cost_micros FROM ad_group_ad WHERE segments.date "
                                    "BETWEEN '%s' AND '%s'" % (a, b))
        rows = body[0]["results"]
        self.assertEqual(len(rows), 12 * 7)
        self.assertEqual(sum(int(r["metrics"]["costMicros"]) for r in rows), camp_total)
        self.assertTrue(rows[0]["adGroupAd"]["resourceName"].startswith("customers/1234567890/adGroupAds/"))
        st, _, body = self.gaql(at, "SELECT campaign.id, ad_group.id, ad_group.name, segments.date, "
                                    "metrics.impressions FROM ad_group WHERE segments.date DURING LAST_7_DAYS")
        self.assertEqual(len(body[0]["results"]), 6 * 7)  # LAST_7_DAYS = the 7 days before today
        st, _, body = self.gaql(at, "SELECT ad_group_criterion.criterion_id, ad_group_criterion.keyword.text, "
                                    "ad_group_criterion.keyword.match_type, segments.date, metrics.clicks "
                                    "FROM keyword_view WHERE segments.date DURING YESTERDAY")
        self.assertEqual(len(body[0]["results"]), 12)
        self.assertIn(body[0]["results"][0]["adGroupCriterion"]["keyword"]["matchType"], ("EXACT", "PHRASE"))
        # paging with search
        self.control("config", {"google_page_size": 10})
        query = "SELECT campaign.id, segments.date, metrics.clicks FROM campaign WHERE segments.date DURING LAST_7_DAYS"
        st, _, page1 = self.gaql(at, query, stream=False)
        self.assertEqual(len(page1["results"]), 10)
        st, _, page2 = self.gaql(at, query, stream=False, pageToken=page1["nextPageToken"])
        st, _, page3 = self.gaql(at, query, stream=False, pageToken=page2["nextPageToken"])
        self.assertEqual((len(page2["results"]), len(page3["results"])), (10, 1))
        self.assertNotIn("nextPageToken", page3)
        st, _, body = self.gaql(at, query, stream=False, pageToken="garbage")
        self.assertEqual(st, 400)
        st, _, body = self.gaql(at, query, stream=False, pageSize=5)
        self.assertEqual(body["error"]["details"][0]["errors"][0]["errorCode"], {"requestError": "PAGE_SIZE_NOT_SUPPORTED"})
        # bad GAQL
        st, _, body = self.gaql(at, "SELECT campaign.bogus FROM campaign")
        self.assertEqual(st, 400)
        self.assertEqual(body[0]["error"]["status"], "INVALID_ARGUMENT")
        self.assertEqual(body[0]["error"]["details"][0]["errors"][0]["errorCode"], {"queryError": "UNRECOGNIZED_FIELD"})
        st, _, body = self.gaql(at, "SELECT campaign.id, segments.date FROM campaign", stream=False)
        self.assertEqual(body["error"]["details"][0]["errors"][0]["errorCode"],
                         {"queryError": "EXPECTED_FILTERS_ON_DATE_RANGE"})
        st, _, body = self.ads(at, "/v26/customers/1234567890/googleAds:search",
                               {"query": "SELECT campaign.id FROM campaign"},
                               headers={"login-customer-id": "123-456-7890"})
        self.assertEqual(st, 401)
        # custom metrics
        call("google", "PUT", "/__fake/metrics", {"account_id": "1234567890", "rows": [
            {"date": b, "campaign_id": "777", "campaign_name": "Custom", "ad_group_id": "7771",
             "ad_group_name": "G", "ad_id": "77711", "ad_name": "A", "keyword": "k", "match_type": "BROAD",
             "impressions": 10, "clicks": 0, "cost": "12.34"}]})
        st, _, body = self.gaql(at, "SELECT campaign.id, metrics.clicks, metrics.cost_micros FROM campaign "
                                    "WHERE segments.date = '%s'" % b)
        self.assertEqual(body[0]["results"], [{"campaign": {"resourceName": "customers/1234567890/campaigns/777",
                                                            "id": "777"}, "metrics": {"costMicros": "12340000"}}])
        # conversions
        now = dt.datetime.now(dt.timezone(dt.timedelta(hours=-5))).strftime("%Y-%m-%d %H:%M:%S-05:00")
        conv = {"gclid": "Cj0KCQiAgood", "conversionAction": "customers/1234567890/conversionActions/987654321",
                "conversionDateTime": now, "conversionValue": 49.99, "currencyCode": "USD", "orderId": "ORD-1"}
        up = "/v26/customers/1234567890:uploadClickConversions"
        st, _, body = self.ads(at, up, {"conversions": [conv], "partialFailure": False})
        self.assertEqual(body["error"]["details"][0]["errors"][0]["errorCode"],
                         {"partialFailureError": "PARTIAL_FAILURE_MODE_REQUIRED"})
        bad = dict(conv, gclid="EXPIRED-123")
        worse = dict(conv, gclid="x1", conversionDateTime="2026-01-15T12:00:00Z")
        st, _, body = self.ads(at, up, {"conversions": [conv, bad, worse], "partialFailure": True})
        self.assertEqual(st, 200)
        self.assertEqual(body["results"][0]["gclid"], "Cj0KCQiAgood")
        self.assertEqual(body["results"][1:], [{}, {}])
        errs = body["partialFailureError"]["details"][0]["errors"]
        self.assertEqual(errs[0]["errorCode"], {"conversionUploadError": "EXPIRED_EVENT"})
        self.assertEqual(errs[0]["location"]["fieldPathElements"][0], {"fieldName": "conversions", "index": 1})
        self.assertIn("dateError", errs[1]["errorCode"])
        st, _, body = self.ads(at, up, {"conversions": [conv], "partialFailure": True})
        self.assertEqual(body["partialFailureError"]["details"][0]["errors"][0]["errorCode"],
                         {"conversionUploadError": "CLICK_CONVERSION_ALREADY_EXISTS"})
        st, _, body = self.ads(at, up, {"conversions": [dict(conv, gclid="a", gbraid="b")], "partialFailure": True})
        self.assertIn("partialFailureError", body)
        # Data Manager
        ev = {"adIdentifiers": {"gclid": "Cj0dm"}, "eventTimestamp": "2026-01-15T20:32:45Z", "transactionId": "O-1",
              "conversionValue": 49.99, "currency": "USD", "eventSource": "WEB"}
        dest = {"operatingAccount": {"accountType": "GOOGLE_ADS", "accountId": "1234567890"},
                "productDestinationId": "987654321"}
        st, _, body = self.ads(at, "/v1/events:ingest", {"destinations": [dest], "events": [ev], "encoding": "HEX"})
        self.assertEqual(st, 200, body)
        self.assertIn("requestId", body)
        st, _, body = self.ads(at, "/v1/events:ingest", {"destinations": [dest], "events": [dict(ev, eventTimestamp="x")]})
        self.assertEqual((st, body["error"]["status"]), (400, "INVALID_ARGUMENT"))
        st, _, body = self.ads(at, "/v1/events:ingest", {"destinations": [dest], "events": [ev] * 2001})
        self.assertEqual(st, 400)
        received = call("google", "GET", "/__fake/received-events")[2]
        self.assertEqual([(e["endpoint"], e["account_or_pixel"]) for e in received],
                         [("uploadClickConversions", "1234567890"), ("events:ingest", "1234567890")])
        self.assertEqual(received[0]["event"], conv)
        # failure modes
        self.control("fail", {"path_contains": "searchStream", "kind": "rate_limit", "count": 1})
        st, _, body = self.gaql(at, "SELECT customer.id FROM customer")
        self.assertEqual((st, body["error"]["status"]), (429, "RESOURCE_EXHAUSTED"))
        self.assertEqual(body["error"]["details"][0]["errors"][0]["errorCode"], {"quotaError": "RESOURCE_EXHAUSTED"})
        self.assertEqual(self.gaql(at, "SELECT customer.id FROM customer")[0], 200)
        self.control("fail", {"path_contains": "searchStream", "kind": "server_error"})
        self.assertEqual(self.gaql(at, "SELECT customer.id FROM customer")[0], 500)
        # expiry -> refresh
        self.control("expire-tokens")
        st, _, body = self.gaql(at, "SELECT customer.id FROM customer")
        self.assertEqual(body["error"]["details"][0]["errors"][0]["errorCode"],
                         {"authenticationError": "OAUTH_TOKEN_EXPIRED"})
        st, _, fresh = call("google", "POST", "/token", form={"client_id": G_CLIENT, "client_secret": G_SECRET,
                                                               "refresh_token": tok["refresh_token"],
                                                               "grant_type": "refresh_token"})
        self.assertEqual(st, 200)
        at = fresh["access_token"]
        self.assertEqual(self.gaql(at, "SELECT customer.id FROM customer")[0], 200)
        # revoke -> auth errors -> reauthorize
        st, _, body = call("google", "POST", "/revoke?" + q({"token": tok["refresh_token"]}),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual((st, body), (200, {}))
        st, _, body = self.gaql(at, "SELECT customer.id FROM customer")
        self.assertEqual((st, body["error"]["status"]), (401, "UNAUTHENTICATED"))
        st, _, body = call("google", "POST", "/token", form={"client_id": G_CLIENT, "client_secret": G_SECRET,
                                                              "refresh_token": tok["refresh_token"],
                                                              "grant_type": "refresh_token"})
        self.assertEqual((st, body["error"]), (400, "invalid_grant"))
        tok2 = self.login()
        self.assertEqual(self.gaql(tok2["access_token"], "SELECT customer.id FROM customer")[0], 200)
        self.control("revoke-tokens")
        self.assertEqual(self.gaql(tok2["access_token"], "SELECT customer.id FROM customer")[0], 401)
        reqs = call("google", "GET", "/__fake/requests?path_contains=uploadClickConversions")[2]["requests"]
        self.assertEqual(len(reqs), 4)
        self.assertEqual(reqs[0]["headers"]["developer-token"], "dev")


class MetaTest(Base):
    provider = "meta"
    V = "/v26.0"

    def login(self):
        st, h, _ = call("meta", "GET", self.V + "/dialog/oauth?" + q({
            "client_id": "111111111111111", "redirect_uri": CB, "state": "m1", "response_type": "code",
            "scope": "ads_read,ads_management"}))
        self.assertEqual(st, 302)
        got, frag = redirect_params(h)
        self.assertEqual((got["state"], frag), ("m1", "_=_"))
        st, _, short = call("meta", "GET", self.V + "/oauth/access_token?" + q({
            "client_id": "111111111111111", "client_secret": "fake-meta-secret", "redirect_uri": CB,
            "code": got["code"]}))
        self.assertEqual(st, 200, short)
        st, _, long = call("meta", "GET", self.V + "/oauth/access_token?" + q({
            "grant_type": "fb_exchange_token", "client_id": "111111111111111", "client_secret": "fake-meta-secret",
            "fb_exchange_token": short["access_token"]}))
        self.assertEqual(long["expires_in"], 5183944)
        return long["access_token"]

    def get(self, path, token, **params):
        return call("meta", "GET", self.V + path + "?" + q(dict(params, access_token=token)))

    def follow(self, url):
        parts = urllib.parse.urlsplit(url)
        self.assertEqual(parts.netloc, "graph.facebook.com")
        return call("meta", "GET", parts.path + "?" + parts.query)

    def capi_event(self, **over):
        ev = {"event_name": "Purchase", "event_time": int(time.time()) - 60, "event_id": "ord-1",
              "action_source": "website", "event_source_url": "https://shop.example.com/thanks",
              "user_data": {"em": [hashlib.sha256(b"a@b.com").hexdigest()], "client_user_agent": "UA",
                            "client_ip_address": "203.0.113.7",
                            "fbc": "fb.1.1767225000123.IwAR2F4", "fbp": "fb.1.1767220000000.1098115397"},
              "custom_data": {"value": 49.99, "currency": "USD"}}
        ev.update(over)
        return ev

    def test_lifecycle(self):
        st, _, body = call("meta", "GET", self.V + "/oauth/access_token?" + q({
            "client_id": "111111111111111", "client_secret": "bad", "redirect_uri": CB, "code": "x"}))
        self.assertEqual((st, body["error"]["type"]), (400, "OAuthException"))
        tok = self.login()
        st, _, body = self.get("/debug_token", "111111111111111|fake-meta-secret", input_token=tok)
        self.assertTrue(body["data"]["is_valid"])
        self.assertIn("ads_read", body["data"]["scopes"])
        st, _, body = self.get("/me/adaccounts", tok, fields="id,name,currency", limit=1)
        self.assertEqual(body["data"], [{"id": "act_123456789", "name": "Main ad account", "currency": "USD"}])
        st, _, body2 = self.follow(body["paging"]["next"])
        self.assertEqual(body2["data"][0]["currency"], "EUR")
        self.assertNotIn("next", body2["paging"])
        tr = json.dumps({"since": (TODAY - dt.timedelta(6)).isoformat(), "until": TODAY.isoformat()})
        totals = {}
        for level, n in (("account", 1), ("campaign", 3), ("adset", 6), ("ad", 12)):
            st, _, body = self.get("/act_123456789/insights", tok, level=level, time_range=tr, time_increment=1,
                                   fields="campaign_id,adset_id,ad_id,impressions,clicks,spend", limit=25)
            self.assertEqual(st, 200, body)
            rows = list(body["data"])
            while "next" in body["paging"]:
                st, _, body = self.follow(body["paging"]["next"])
                rows += body["data"]
            self.assertEqual(len(rows), n * 7, level)
            self.assertIsInstance(rows[0]["impressions"], str)
            self.assertEqual(rows[0]["date_start"], rows[0]["date_stop"])
            totals[level] = round(sum(float(r["spend"]) for r in rows), 2)
            if level == "account":
                self.assertNotIn("campaign_id", rows[0])
            if level == "ad":
                self.assertIn("ad_id", rows[0])
        self.assertEqual(len(set(totals.values())), 1, totals)
        st, _, body = self.get("/act_123456789/insights", tok, level="campaign", date_preset="yesterday",
                               fields="campaign_name,spend,bogus")
        self.assertEqual(body["error"]["code"], 100)
        st, _, body = self.get("/act_123456789/insights", tok, level="campaign", date_preset="last_7d")
        self.assertEqual(len(body["data"]), 3)
        self.assertEqual(body["data"][0]["date_start"], (TODAY - dt.timedelta(7)).isoformat())
        # CAPI
        path = self.V + "/1234567890123456/events?" + q({"access_token": tok})
        st, _, body = call("meta", "POST", path, {"data": [self.capi_event()], "test_event_code": "TEST1"})
        self.assertEqual(st, 200, body)
        self.assertEqual((body["events_received"], body["messages"]), (1, []))
        old = self.capi_event(event_time=int(time.time()) - 8 * 86400)
        st, _, body = call("meta", "POST", path, {"data": [self.capi_event(), old]})
        self.assertEqual((st, body["error"]["code"]), (400, 100))
        self.assertIn("Too Old", body["error"]["error_user_title"])
        for bad in (self.capi_event(user_data={"em": ["a@b.com"], "client_user_agent": "UA"}),
                    self.capi_event(user_data={"em": [hashlib.sha256(b"x").hexdigest()]}),
                    self.capi_event(action_source="web"), self.capi_event(event_time="123"),
                    self.capi_event(user_data={"client_user_agent": "UA", "fbc": "fb.1.123.abc"})):
            st, _, body = call("meta", "POST", path, {"data": [bad]})
            self.assertEqual((st, body["error"]["code"]), (400, 100), bad)
        received = call("meta", "GET", "/__fake/received-events")[2]
        self.assertEqual(len(received), 1)
        self.assertEqual(received[0]["account_or_pixel"], "1234567890123456")
        # failures
        self.control("fail", {"path_contains": "insights", "kind": "rate_limit"})
        st, _, body = self.get("/act_123456789/insights", tok)
        self.assertEqual(body["error"]["code"], 80004)
        self.control("fail", {"path_contains": "adaccounts", "kind": "rate_limit"})
        self.assertEqual(self.get("/me/adaccounts", tok)[2]["error"]["code"], 17)
        self.assertEqual(self.get("/me/adaccounts", tok)[0], 200)
        # revoke -> 190 -> login again
        st, _, body = call("meta", "DELETE", self.V + "/me/permissions?" + q({"access_token": tok}))
        self.assertEqual(body, {"success": True})
        st, _, body = self.get("/me/adaccounts", tok)
        self.assertEqual((st, body["error"]["code"], body["error"]["type"]), (400, 190, "OAuthException"))
        tok2 = self.login()
        self.assertEqual(self.get("/me/adaccounts", tok2)[0], 200)
        self.control("expire-tokens")
        body = self.get("/me/adaccounts", tok2)[2]
        self.assertEqual((body["error"]["code"], body["error"]["error_subcode"]), (190, 463))
        body = self.get("/me/adaccounts", "garbage")[2]
        self.assertEqual((body["error"]["code"], body["error"]["error_subcode"]), (190, 467))
        self.control("consent", {"deny": True})
        st, h, _ = call("meta", "GET", self.V + "/dialog/oauth?" + q({"client_id": "111111111111111",
                                                                      "redirect_uri": CB, "state": "d"}))
        self.assertEqual(redirect_params(h)[0]["error_reason"], "user_denied")


class TikTokTest(Base):
    provider = "tiktok"
    API = "/open_api/v1.3/"
    APP = {"app_id": "7000000000000000000", "secret": "fake-tiktok-secret"}

    def login(self):
        st, h, _ = call("tiktok", "GET", "/portal/auth?" + q({"app_id": self.APP["app_id"], "state": "t1",
                                                              "redirect_uri": CB}))
        self.assertEqual(st, 302)
        got, _ = redirect_params(h)
        self.assertEqual(got["auth_code"], got["code"])
        st, _, body = call("tiktok", "POST", self.API + "oauth2/access_token/", dict(self.APP, auth_code=got["code"]))
        self.assertEqual((st, body["code"]), (200, 0), body)
        again = call("tiktok", "POST", self.API + "oauth2/access_token/", dict(self.APP, auth_code=got["code"]))[2]
        self.assertEqual(again["code"], 40110)
        return body["data"]["access_token"]

    def get(self, ep, token, **params):
        params = {k: json.dumps(v) if isinstance(v, list) else v for k, v in params.items()}
        return call("tiktok", "GET", self.API + ep + "?" + q(params), headers={"Access-Token": token})[2]

    def test_lifecycle(self):
        bad = call("tiktok", "POST", self.API + "oauth2/access_token/", dict(self.APP, secret="x", auth_code="y"))[2]
        self.assertEqual(bad["code"], 40101)
        tok = self.login()
        body = self.get("oauth2/advertiser/get/", tok, **self.APP)
        self.assertEqual([a["advertiser_id"] for a in body["data"]["list"]],
                         ["7000000000000000001", "7000000000000000002"])
        body = self.get("advertiser/info/", tok, advertiser_ids=["7000000000000000001"])
        self.assertEqual(body["data"]["list"][0]["currency"], "USD")
        start, end = (TODAY - dt.timedelta(6)).isoformat(), TODAY.isoformat()
        spends = {}
        for level, dim, n in (("AUCTION_ADVERTISER", "advertiser_id", 1), ("AUCTION_CAMPAIGN", "campaign_id", 3),
                              ("AUCTION_ADGROUP", "adgroup_id", 6), ("AUCTION_AD", "ad_id", 12)):
            rows, page = [], 1
            while True:
                body = self.get("report/integrated/get/", tok, advertiser_id="7000000000000000001",
                                report_type="BASIC", data_level=level, dimensions=[dim, "stat_time_day"],
                                metrics=["spend", "impressions", "clicks"], start_date=start, end_date=end,
                                page=page, page_size=20)
                self.assertEqual(body["code"], 0, body)
                rows += body["data"]["list"]
                if page >= body["data"]["page_info"]["total_page"]:
                    break
                page += 1
            self.assertEqual(len(rows), n * 7)
            self.assertRegex(rows[0]["dimensions"]["stat_time_day"], r"^\d{4}-\d{2}-\d{2} 00:00:00$")
            self.assertIsInstance(rows[0]["metrics"]["spend"], str)
            spends[level] = round(sum(float(r["metrics"]["spend"]) for r in rows), 2)
        self.assertEqual(len(set(spends.values())), 1, spends)
        body = self.get("report/integrated/get/", tok, advertiser_id="7000000000000000001", report_type="BASIC",
                        data_level="AUCTION_CAMPAIGN", dimensions=["campaign_id"], start_date=start, end_date=end,
                        page_size=5000)
        self.assertEqual(body["code"], 40001)
        # events
        ev = {"event": "CompletePayment", "event_time": int(time.time()), "event_id": "o-1",
              "user": {"ttclid": "E.C.P.abc", "email": hashlib.sha256(b"a@b.com").hexdigest(), "ip": "203.0.113.7",
                       "user_agent": "UA"},
              "properties": {"currency": "USD", "value": 49.99}, "page": {"url": "https://shop.example.com/t"}}
        track = {"event_source": "web", "event_source_id": "C9ABCDEF", "data": [ev]}
        st, _, body = call("tiktok", "POST", self.API + "event/track/", track, headers={"Access-Token": tok})
        self.assertEqual((st, body["code"]), (200, 0), body)
        st, _, body = call("tiktok", "POST", self.API + "event/track/",
                           dict(track, data=[dict(ev, event_time="now")]), headers={"Access-Token": tok})
        self.assertEqual((st, body["code"]), (200, 40001))
        st, _, body = call("tiktok", "POST", self.API + "event/track/", track,
                           headers={"Access-Token": "fake-tiktok-events-token"})
        self.assertEqual(body["code"], 0)
        self.assertEqual(len(call("tiktok", "GET", "/__fake/received-events")[2]), 2)
        # failure mode, revoke
        self.control("fail", {"path_contains": "report", "kind": "rate_limit"})
        body = self.get("report/integrated/get/", tok, advertiser_id="7000000000000000001")
        self.assertEqual(body["code"], 40100)
        self.control("revoke-tokens")
        self.assertEqual(self.get("advertiser/info/", tok, advertiser_ids=["7000000000000000001"])["code"], 40105)
        tok2 = self.login()
        self.assertEqual(self.get("advertiser/info/", tok2, advertiser_ids=["7000000000000000001"])["code"], 0)
        body = call("tiktok", "POST", self.API + "oauth2/revoke_token/", dict(self.APP, access_token=tok2))[2]
        self.assertEqual(body["code"], 0)
        self.assertEqual(self.get("advertiser/info/", tok2, advertiser_ids=["7000000000000000001"])["code"], 40105)


class GA4Test(Base):
    provider = "ga4"

    def debug(self, payload):
        return call("ga4", "POST", "/debug/mp/collect?measurement_id=G-ABC1234&api_secret=x", payload)[2][
            "validationMessages"]

    def test_collect_and_debug(self):
        good = {"client_id": "123.456", "timestamp_micros": int(time.time() * 1e6),
                "events": [{"name": "purchase", "params": {"currency": "USD", "value": 49.99,
                                                           "transaction_id": "o-1"}}]}
        st, h, body = call("ga4", "POST", "/mp/collect?measurement_id=G-ABC1234&api_secret=fake-ga4-secret", good)
        self.assertEqual((st, body), (204, None))
        st, _, _ = call("ga4", "POST", "/mp/collect?measurement_id=G-ABC1234&api_secret=wrong", "{not json")
        self.assertEqual(st, 204)
        rec = call("ga4", "GET", "/__fake/received-events")[2]
        self.assertEqual(rec[0]["event"], good["events"][0])
        self.assertTrue(rec[0]["context"]["api_secret_valid"] and rec[0]["context"]["valid"])
        self.assertFalse(rec[1]["context"]["api_secret_valid"] or rec[1]["context"]["valid"])
        self.assertEqual(self.debug(good), [])
        codes = lambda p: [m["validationCode"] for m in self.debug(p)]  # noqa: E731
        self.assertEqual(codes({"events": [{"name": "purchase"}]}), ["VALUE_REQUIRED"])
        self.assertEqual(codes(dict(good, events=[{"name": "_bad"}])), ["NAME_INVALID"])
        self.assertEqual(codes(dict(good, events=[{"name": "session_start"}])), ["NAME_RESERVED"])
        self.assertEqual(codes(dict(good, events=[{"name": "firebase_x"}])), ["NAME_RESERVED"])
        self.assertEqual(codes(dict(good, events=[{"name": "e"}] * 26)), ["EXCEEDED_MAX_ENTITIES"])
        self.assertEqual(codes(dict(good, events=[{"name": "e", "params": {"p": "x" * 101}}])), ["VALUE_OUT_OF_BOUNDS"])
        self.assertEqual(codes(dict(good, timestamp_micros=int((time.time() - 73 * 3600) * 1e6))),
                         ["VALUE_OUT_OF_BOUNDS"])
        dup = '{"client_id":"1.2","events":[{"name":"e","params":{"a":1,"a":2}}]}'
        self.assertEqual([m["validationCode"] for m in call("ga4", "POST", "/debug/mp/collect", dup,
                                                            {"Content-Type": "application/json"})[2]
                          ["validationMessages"]], ["NAME_DUPLICATED"])
        self.assertEqual(len(call("ga4", "GET", "/__fake/requests?path_contains=debug")[2]["requests"]), 9)
        call("ga4", "POST", "/__fake/reset")
        self.assertEqual(call("ga4", "GET", "/__fake/requests")[2]["requests"], [])


class LifetimeTest(unittest.TestCase):
    def test_short_lifetime_expires(self):
        port = free_port()
        p = subprocess.Popen([sys.executable, os.path.join(HERE, "fakes.py"), "--google", str(port),
                              "--token-lifetime", "1"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            self.assertEqual(p.stdout.readline().strip(), "ready")
            saved = PORTS.get("google")
            PORTS["google"] = port
            try:
                g = GoogleTest("test_lifecycle")
                tok = g.login()
                self.assertEqual(tok["expires_in"], 1)
                time.sleep(1.2)
                st, _, body = g.gaql(tok["access_token"], "SELECT customer.id FROM customer")
                self.assertEqual(st, 401)
            finally:
                PORTS["google"] = saved
        finally:
            p.send_signal(2)
            self.assertEqual(p.wait(10), 0)
            p.stdout.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
