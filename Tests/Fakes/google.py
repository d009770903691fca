"""Fake Google: OAuth 2.0 (accounts.google.com + oauth2.googleapis.com),
Google Ads REST (googleads.googleapis.com) and Data Manager
(datamanager.googleapis.com) on one port. See data/protocols.md sections 1-2."""
import base64
import hashlib
import json
import re
import time

import gaql
from google_conversions import ConversionsMixin
from fakebase import (Fake, json_response, html_response, redirect, add_query, valid_redirect_uri, build_seed,
                      new_id, b64, unb64)

CLIENT_ID = "fake-google-client.apps.googleusercontent.com"
CLIENT_SECRET = "fake-google-secret"
ADS_SCOPE = "https://www.googleapis.com/auth/adwords"
DM_SCOPE = "https://www.googleapis.com/auth/datamanager"
CUSTOMERS = {
    "1234567890": {"id": "1234567890", "name": "Main account", "currency": "USD", "time_zone": "America/New_York"},
    "9876543210": {"id": "9876543210", "name": "Second account", "currency": "EUR", "time_zone": "Europe/Berlin"},
}
ADS_PATH = re.compile(r"^/(v\d+)/customers/([^/:]+)(?::(uploadClickConversions)|/googleAds:(searchStream|search))$")
def oauth_error(status, error, description):
    return json_response({"error": error, "error_description": description}, status)


class GoogleFake(ConversionsMixin, Fake):
    name = "google"
    CUSTOMERS, DM_SCOPE = CUSTOMERS, DM_SCOPE
    fail_kinds = {"rate_limit", "server_error", "auth", "developer_token", "not_allowlisted", "unavailable"}

    def seed(self):
        def id_of(acct, kind, *i):
            base = str(111 * (i[0] + 1) + (333 if acct == "9876543210" else 0))
            if kind == "campaign":
                return base
            grp = base + str(i[1] + 1)
            return grp if kind == "ad_group" else grp + ("0" if kind == "ad" else "9") + str(i[2] + 1)
        self.seed_rows = build_seed(list(CUSTOMERS), id_of)
        self.uploaded = set()

    # ----- routing -------------------------------------------------------
    def route(self, req):
        p = req.path
        if p in ("/o/oauth2/v2/auth", "/o/oauth2/auth"):
            return self.authorize(req)
        if p in ("/token", "/o/oauth2/token"):
            return self.token(req)
        if p in ("/revoke", "/o/oauth2/revoke"):
            return self.revoke(req)
        if p == "/v1/events:ingest":
            return self.ingest(req)
        m = re.match(r"^/(v\d+)/customers:listAccessibleCustomers$", p)
        if m:
            return self.list_customers(req, m.group(1))
        m = ADS_PATH.match(p)
        if m:
            version, cid, upload, method = m.groups()
            return self.ads_call(req, version, cid, upload or method)
        return None

    # ----- OAuth ----------------------------------------------------------
    def authorize(self, req):
        q = req.query
        if q.get("client_id") != CLIENT_ID:
            return html_response(401, "Error 401: invalid_client", "The OAuth client was not found.")
        for param in ("redirect_uri", "response_type", "scope"):
            if not q.get(param):
                return html_response(400, "Error 400: invalid_request", "Missing required parameter: %s" % param)
        if not valid_redirect_uri(q["redirect_uri"]):
            return html_response(400, "Error 400: redirect_uri_mismatch", "Invalid parameter value for redirect_uri")
        if q["response_type"] != "code":
            return html_response(400, "Error 400: unsupported_response_type",
                                 "Invalid response_type: %s" % q["response_type"])
        if not q.get("state"):  # real Google only recommends state; the fake insists (CSRF)
            return html_response(400, "Error 400: invalid_request", "Missing required parameter: state "
                                 "(required by the Waymark fake)")
        if q.get("access_type", "online") not in ("online", "offline"):
            return html_response(400, "Error 400: invalid_request", "Invalid access_type: %s" % q["access_type"])
        method = q.get("code_challenge_method", "plain" if q.get("code_challenge") else None)
        if method not in (None, "S256", "plain"):
            return html_response(400, "Error 400: invalid_request", "Invalid code_challenge_method")
        if method and not q.get("code_challenge"):
            return html_response(400, "Error 400: invalid_request", "Missing code_challenge")
        with self.lock:
            if self.deny:
                return redirect(add_query(q["redirect_uri"], {"error": "access_denied", "state": q["state"]}))
            grant = {"id": new_id(), "client": CLIENT_ID, "scope": q["scope"], "revoked": False}
            code = self.issue("code", CLIENT_ID, grant, 600, prefix="4/0A", redirect_uri=q["redirect_uri"],
                              challenge=q.get("code_challenge"), method=method,
                              offline=q.get("access_type") == "offline",
                              consent="consent" in q.get("prompt", "").split())
        return redirect(add_query(q["redirect_uri"], {"state": q["state"], "code": code.value, "scope": q["scope"]}))

    def client_auth(self, req, form):
        cid, secret = form.get("client_id"), form.get("client_secret")
        auth = req.headers.get("authorization", "")
        if auth[:6].lower() == "basic ":
            try:
                cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            except Exception:
                pass
        if cid != CLIENT_ID:
            return oauth_error(401, "invalid_client", "The OAuth client was not found.")
        if secret != CLIENT_SECRET:
            return oauth_error(401, "invalid_client", "Unauthorized")
        return None

    def token(self, req):
        if req.method != "POST" or req.content_type() != "application/x-www-form-urlencoded":
            return oauth_error(400, "invalid_request", "Required parameter is missing: grant_type")
        form = req.form()
        err = self.client_auth(req, form)
        if err:
            return err
        grant_type = form.get("grant_type")
        if not grant_type:
            return oauth_error(400, "invalid_request", "Required parameter is missing: grant_type")
        with self.lock:
            if grant_type == "authorization_code":
                return self.exchange_code(form)
            if grant_type == "refresh_token":
                return self.refresh(form)
        return oauth_error(400, "unsupported_grant_type", "Invalid grant_type: %s" % grant_type)

    def exchange_code(self, form):
        if not form.get("code"):
            return oauth_error(400, "invalid_request", "Missing required parameter: code")
        code = self.lookup(form["code"], "code")
        if code is None:
            return oauth_error(400, "invalid_grant", "Malformed auth code.")
        if code.used or code.state() != "ok":
            return oauth_error(400, "invalid_grant", "Bad Request")
        if form.get("redirect_uri") != code.extra["redirect_uri"]:
            return oauth_error(400, "redirect_uri_mismatch", "Bad Request")
        if code.extra["challenge"]:
            verifier = form.get("code_verifier")
            if not verifier:
                return oauth_error(400, "invalid_grant", "Missing code verifier.")
            if code.extra["method"] == "S256":
                verifier = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
            if verifier != code.extra["challenge"]:
                return oauth_error(400, "invalid_grant", "Invalid code verifier.")
        code.used = True
        grant = code.grant
        out = self.access_response(grant)
        live = any(t.kind == "refresh" and t.state() == "ok" for t in self.tokens.values())
        if code.extra["offline"] and (code.extra["consent"] or not live):
            out["refresh_token"] = self.issue("refresh", CLIENT_ID, grant, None, prefix="1//0g").value
        if "openid" in grant["scope"].split():
            claims = {"iss": "https://accounts.google.com", "aud": CLIENT_ID, "sub": "100000000000000000001",
                      "email": "fake.user@example.com", "iat": int(time.time()), "exp": int(time.time()) + 3600}
            out["id_token"] = "%s.%s.%s" % (b64('{"alg":"RS256","typ":"JWT"}'), b64(json.dumps(claims)), b64("fake"))
        return json_response(out)

    def access_response(self, grant):
        tok = self.issue("access", CLIENT_ID, grant, self.token_lifetime, prefix="ya29.a0")
        return {"access_token": tok.value, "expires_in": self.token_lifetime, "scope": grant["scope"],
                "token_type": "Bearer"}

    def refresh(self, form):
        if not form.get("refresh_token"):
            return oauth_error(400, "invalid_request", "Missing required parameter: refresh_token")
        rt = self.lookup(form["refresh_token"], "refresh")
        if rt is None or rt.state() != "ok":
            return oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
        return json_response(self.access_response(rt.grant))

    def revoke(self, req):
        token = req.query.get("token") or req.form().get("token")
        with self.lock:
            tok = self.tokens.get(token or "")
            if tok is None or tok.kind == "code" or tok.state() == "revoked":
                return oauth_error(400, "invalid_token", "Token expired or revoked")
            tok.grant["revoked"] = True   # revoking either token kills the whole grant
        return json_response({})

    # ----- Ads errors -----------------------------------------------------
    def ads_error(self, http, status, message, code=None, version="v26", location=None, wrap=False, extra=None):
        rid = new_id(nbytes=12)
        err = {"code": http, "message": message, "status": status}
        if code:
            e = {"errorCode": code, "message": message}
            if location:
                e["location"] = {"fieldPathElements": location}
            if extra:
                e["details"] = extra
            err["details"] = [{"@type": "type.googleapis.com/google.ads.googleads.%s.errors.GoogleAdsFailure" % version,
                               "errors": [e], "requestId": rid}]
        body = {"error": err}
        headers = {"request-id": rid}
        if http == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="https://accounts.google.com/", error="invalid_token"'
        return json_response([body] if wrap else body, http, headers)

    def unauthenticated(self, state, version):
        msg = ("Request is missing required authentication credential. Expected OAuth 2 access token, login cookie "
               "or other valid authentication credential." if state == "missing" else
               "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
               "other valid authentication credential.")
        enum = {"missing": "OAUTH_TOKEN_HEADER_INVALID", "expired": "OAUTH_TOKEN_EXPIRED",
                "revoked": "OAUTH_TOKEN_REVOKED"}.get(state, "OAUTH_TOKEN_INVALID")
        return self.ads_error(401, "UNAUTHENTICATED", msg, {"authenticationError": enum}, version)

    def fail_response(self, req, kind):
        p = req.path
        if p.startswith("/o/oauth2") and "auth" in p and "token" not in p and "revoke" not in p:
            return html_response({"rate_limit": 429, "auth": 401}.get(kind, 500), "Error", "Simulated %s" % kind)
        if p in ("/token", "/revoke", "/o/oauth2/token", "/o/oauth2/revoke"):
            if kind == "rate_limit":
                return oauth_error(429, "rate_limit_exceeded", "Rate Limit Exceeded")
            if kind == "auth":
                return oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
            return oauth_error(503 if kind == "unavailable" else 500, "internal_failure", "Backend Error")
        v = (re.match(r"^/(v\d+)/", p) or [None, "v26"])[1]
        if kind == "rate_limit":
            return self.ads_error(429, "RESOURCE_EXHAUSTED", "Too many requests. Retry in 30 seconds.",
                                  {"quotaError": "RESOURCE_EXHAUSTED"}, v,
                                  extra={"quotaErrorDetails": {"rateScope": "DEVELOPER", "rateName":
                                         "Number of operations for basic access", "retryDelay": "30s"}})
        if kind == "auth":
            return self.unauthenticated("invalid", v)
        if kind == "developer_token":
            return self.ads_error(401, "UNAUTHENTICATED", "The developer token is not valid.",
                                  {"authenticationError": "DEVELOPER_TOKEN_PARAMETER_MISSING"}, v)
        if kind == "not_allowlisted":
            return self.ads_error(403, "PERMISSION_DENIED", "The customer is not allowlisted for this feature.",
                                  {"notAllowlistedError": "CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE"}, v)
        if kind == "unavailable":
            return self.ads_error(503, "UNAVAILABLE", "The service is currently unavailable.")
        return self.ads_error(500, "INTERNAL", "Internal error encountered.", {"internalError": "INTERNAL_ERROR"}, v)

    def check_token(self, req, version, scope=ADS_SCOPE):
        """-> error Response or None."""
        value = req.bearer()
        if not value:
            return self.unauthenticated("missing", version)
        with self.lock:
            tok = self.lookup(value, "access")
            state = "invalid" if tok is None else tok.state()
        if state != "ok":
            return self.unauthenticated(state, version)
        if scope not in tok.grant["scope"].split():
            return json_response({"error": {"code": 403, "message": "Request had insufficient authentication scopes.",
                                            "status": "PERMISSION_DENIED", "details": [{
                                                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                                "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                                                "domain": "googleapis.com"}]}}, 403)
        return None

    # ----- Google Ads -----------------------------------------------------
    def list_customers(self, req, version):
        if req.method != "GET":
            return self.ads_error(404, "NOT_FOUND", "Method not found.")
        err = self.check_token(req, version)
        if err:
            return err
        return json_response({"resourceNames": ["customers/" + c for c in CUSTOMERS]},
                             headers={"request-id": new_id(nbytes=12)})

    def ads_call(self, req, version, cid, method):
        if req.method != "POST":
            return self.ads_error(404, "NOT_FOUND", "Method not found.")
        err = self.check_token(req, version)
        if err:
            return err
        login = req.headers.get("login-customer-id")
        if login is not None and not re.fullmatch(r"\d{10}", login):
            return self.ads_error(401, "UNAUTHENTICATED", "The login-customer-id header is invalid: digits only.",
                                  {"authenticationError": "LOGIN_CUSTOMER_ID_PARAMETER_INVALID"}, version)
        if not re.fullmatch(r"\d+", cid):
            return self.ads_error(400, "INVALID_ARGUMENT", "Invalid customer ID '%s'." % cid,
                                  {"requestError": "INVALID_CUSTOMER_ID"}, version)
        if cid not in CUSTOMERS or (login and login not in CUSTOMERS):
            return self.ads_error(403, "PERMISSION_DENIED", "User doesn't have permission to access customer. Note: If "
                                  "you're accessing a client customer, the manager's customer id must be set in the "
                                  "'login-customer-id' header.", {"authorizationError": "USER_PERMISSION_DENIED"},
                                  version)
        if req.content_type() != "application/json" or not isinstance(req.json, dict):
            return self.ads_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received. %s" % (
                req.json_error or "Expected a JSON object with Content-Type: application/json."))
        if method == "uploadClickConversions":
            return self.upload(req, version, cid)
        return self.search(req, version, cid, method == "searchStream")

    def search(self, req, version, cid, stream):
        body = req.json
        try:
            q = gaql.Query(body.get("query"))
        except gaql.GaqlError as e:
            return self.query_error(e, version, stream)
        if not stream and "pageSize" in body:
            return self.ads_error(400, "INVALID_ARGUMENT", "Setting the page size is not supported.",
                                  {"requestError": "PAGE_SIZE_NOT_SUPPORTED"}, version, location=[{"fieldName": "page_size"}])
        with self.lock:
            rows = gaql.run(q, CUSTOMERS[cid], self.rows_for(cid))
            page = int(self.config.get("google_page_size", 10000))
        rid = new_id(nbytes=12)
        mask = gaql.field_mask(q)
        if stream:
            batches = [{"results": rows[i:i + 10000], "fieldMask": mask, "requestId": rid}
                       for i in range(0, len(rows), 10000)] or [{"fieldMask": mask, "requestId": rid}]
            return json_response(batches, headers={"request-id": rid})
        start = 0
        if body.get("pageToken"):
            tok = unb64(body["pageToken"]) or ""
            off, _, qh = tok.partition(":")
            if not off.isdigit() or qh != hashlib.md5(body["query"].encode()).hexdigest()[:8]:
                return self.ads_error(400, "INVALID_ARGUMENT", "Page token is invalid.",
                                      {"requestError": "INVALID_PAGE_TOKEN"}, version)
            start = int(off)
        out = {"results": rows[start:start + page], "fieldMask": mask, "requestId": rid}
        if not out["results"]:
            del out["results"]
        if start + page < len(rows):
            out["nextPageToken"] = b64("%d:%s" % (start + page, hashlib.md5(body["query"].encode()).hexdigest()[:8]))
        if body.get("returnTotalResultsCount"):
            out["totalResultsCount"] = str(len(rows))
        return json_response(out, headers={"request-id": rid})

    def query_error(self, e, version, stream):
        """GAQL errors; searchStream wraps its error body in a JSON array like its batches."""
        resp = self.ads_error(400, "INVALID_ARGUMENT", "Request contains an invalid argument.",
                              {"queryError": e.code}, version, wrap=stream)
        body = json.loads(resp.body)
        inner = (body[0] if stream else body)["error"]["details"][0]["errors"][0]
        inner["message"] = e.message
        return json_response(body, 400, resp.headers)
