"""Fake GA4 Measurement Protocol: /mp/collect (always 204, records
everything) and /debug/mp/collect (validates, answers validationMessages).
See data/protocols.md section 4."""
import json
import re
import time

from fakebase import Fake, Response, json_response

API_SECRET = "fake-ga4-secret"
MEASUREMENT_ID = re.compile(r"^G-[A-Z0-9]{6,12}$")
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
RESERVED_EVENTS = {"ad_activeview", "ad_click", "ad_exposure", "ad_impression", "ad_query", "ad_reward",
                   "adunit_exposure", "app_background", "app_clear_data", "app_exception", "app_install",
                   "app_remove", "app_store_refund", "app_update", "app_upgrade", "dynamic_link_app_open",
                   "dynamic_link_app_update", "dynamic_link_first_open", "error", "firebase_campaign",
                   "firebase_in_app_message_action", "firebase_in_app_message_dismiss",
                   "firebase_in_app_message_impression", "first_open", "first_visit", "in_app_purchase",
                   "notification_dismiss", "notification_foreground", "notification_open", "notification_receive",
                   "notification_send", "os_update", "screen_view", "session_start", "user_engagement"}
RESERVED_PREFIXES = ("_", "firebase_", "ga_", "google_", "gtag.")
RESERVED_USER_PROPERTIES = {"first_open_time", "first_visit_time", "last_deep_link_referrer", "user_id",
                            "first_open_after_install"}
MAX_BODY = 130 * 1024


class Duplicates(dict):
    """object_pairs_hook result that remembers duplicated keys."""
    def __init__(self, pairs):
        super().__init__(pairs)
        seen = set()
        self.dups = [k for k, _ in pairs if k in seen or seen.add(k)]


def validate(body_text, query, now=None):
    """-> list of validationMessages for one MP payload."""
    now = now or time.time()
    msgs = []

    def add(path, desc, code):
        msgs.append({"fieldPath": path, "description": desc, "validationCode": code})

    if len(body_text.encode()) > MAX_BODY:
        add("", "Request payload exceeds the maximum size of 130kB.", "VALUE_OUT_OF_BOUNDS")
    try:
        body = json.loads(body_text, object_pairs_hook=Duplicates)
    except ValueError as e:
        add("", "Unable to parse Measurement Protocol JSON payload. %s" % e, "VALUE_INVALID")
        return msgs
    if not isinstance(body, dict):
        add("", "The payload must be a JSON object.", "VALUE_INVALID")
        return msgs
    if "firebase_app_id" in query:
        if not re.fullmatch(r"[0-9a-fA-F]{32}", str(body.get("app_instance_id", ""))):
            add("app_instance_id", "Measurement app_instance_id is required and must be 32 hex characters.",
                "VALUE_REQUIRED" if "app_instance_id" not in body else "VALUE_INVALID")
    elif not isinstance(body.get("client_id"), str) or not body["client_id"]:
        add("client_id", "Measurement client_id is required.", "VALUE_REQUIRED")
    if "user_id" in body and (not isinstance(body["user_id"], str) or len(body["user_id"]) > 256):
        add("user_id", "user_id must be a string of at most 256 characters.", "VALUE_INVALID")
    ts = body.get("timestamp_micros")
    if ts is not None:
        try:
            ts = int(ts)
            if ts < (now - 72 * 3600) * 1e6:
                add("timestamp_micros", "Measurement timestamp_micros can be backdated at most 72 hours.",
                    "VALUE_OUT_OF_BOUNDS")
            elif ts > (now + 15 * 60) * 1e6:
                add("timestamp_micros", "Measurement timestamp_micros cannot be in the future.", "VALUE_INVALID")
        except (TypeError, ValueError):
            add("timestamp_micros", "timestamp_micros must be an integer.", "VALUE_INVALID")
    ups = body.get("user_properties", {})
    if not isinstance(ups, dict):
        add("user_properties", "user_properties must be an object.", "VALUE_INVALID")
        ups = {}
    if len(ups) > 25:
        add("user_properties", "Too many user properties: at most 25.", "EXCEEDED_MAX_ENTITIES")
    for k, v in ups.items():
        if k in RESERVED_USER_PROPERTIES or k.startswith(RESERVED_PREFIXES):
            add("user_properties", "User property name [%s] is reserved." % k, "NAME_RESERVED")
        elif not NAME.match(k):
            add("user_properties", "User property name [%s] is invalid. Names must start with an alphabetic "
                "character and contain only alphanumeric characters and underscores." % k, "NAME_INVALID")
        elif len(k) > 24:
            add("user_properties", "User property name [%s] exceeds 24 characters." % k, "VALUE_OUT_OF_BOUNDS")
        val = v.get("value") if isinstance(v, dict) else None
        if isinstance(val, str) and len(val) > 36:
            add("user_properties", "User property [%s] value exceeds 36 characters." % k, "VALUE_OUT_OF_BOUNDS")
    events = body.get("events")
    if not isinstance(events, list) or not events:
        add("events", "Measurement requires at least one event.", "VALUE_REQUIRED")
        return msgs
    if len(events) > 25:
        add("events", "A request can contain at most 25 events; got %d." % len(events), "EXCEEDED_MAX_ENTITIES")
    for i, ev in enumerate(events):
        path = "events"
        if not isinstance(ev, dict):
            add(path, "Event at index: [%d] must be an object." % i, "VALUE_INVALID")
            continue
        name = ev.get("name")
        if not isinstance(name, str) or not name:
            add(path, "Event at index: [%d] is missing a name." % i, "VALUE_REQUIRED")
        elif name in RESERVED_EVENTS or name.startswith(RESERVED_PREFIXES[1:]):
            add(path, "Event at index: [%d] has name [%s] which is reserved." % (i, name), "NAME_RESERVED")
        elif not NAME.match(name):
            add(path, "Event at index: [%d] has invalid name [%s]. Names must start with an alphabetic character."
                % (i, name), "NAME_INVALID")
        elif len(name) > 40:
            add(path, "Event at index: [%d] has name [%s] longer than 40 characters." % (i, name),
                "VALUE_OUT_OF_BOUNDS")
        params = ev.get("params", {})
        if not isinstance(params, dict):
            add("events.params", "Event at index: [%d] params must be an object." % i, "VALUE_INVALID")
            continue
        for k in getattr(params, "dups", []):
            add("events.params", "Event at index: [%d] has duplicated param [%s]." % (i, k), "NAME_DUPLICATED")
        if len(params) > 25:
            add("events.params", "Event at index: [%d] has more than 25 params." % i, "EXCEEDED_MAX_ENTITIES")
        for k, v in params.items():
            if k.startswith(RESERVED_PREFIXES):
                add("events.params", "Event at index: [%d] has param name [%s] which is reserved." % (i, k),
                    "NAME_RESERVED")
            elif not NAME.match(k):
                add("events.params", "Event at index: [%d] has invalid param name [%s]. Names must start with an "
                    "alphabetic character." % (i, k), "NAME_INVALID")
            elif len(k) > 40:
                add("events.params", "Event at index: [%d] param name [%s] exceeds 40 characters." % (i, k),
                    "VALUE_OUT_OF_BOUNDS")
            if k != "items" and isinstance(v, str) and len(v) > 100:
                add("events.params", "Event at index: [%d] param [%s] value exceeds 100 characters." % (i, k),
                    "VALUE_OUT_OF_BOUNDS")
            if k != "items" and isinstance(v, (dict, list)):
                add("events.params", "Event at index: [%d] param [%s] must be a string or number." % (i, k),
                    "VALUE_INVALID")
    return msgs


class GA4Fake(Fake):
    name = "ga4"
    fail_kinds = {"server_error", "rate_limit"}

    def route(self, req):
        if req.path in ("/mp/collect", "/debug/mp/collect"):
            if req.method != "POST":
                return Response(405, b"", content_type=None)
            msgs = validate(req.body, req.query)
            if req.path.startswith("/debug"):
                return json_response({"validationMessages": msgs})
            mid, secret = req.query.get("measurement_id") or req.query.get("firebase_app_id"), \
                req.query.get("api_secret")
            ctx = {"api_secret_valid": secret == API_SECRET,
                   "measurement_id_valid": bool(MEASUREMENT_ID.match(req.query.get("measurement_id", ""))),
                   "valid": not msgs, "validation_messages": msgs}
            body = req.json if isinstance(req.json, dict) else {}
            events = body.get("events") if isinstance(body.get("events"), list) else [None]
            with self.lock:
                for ev in events:
                    self.record_event("mp/collect", mid, ev, client_id=body.get("client_id"),
                                      user_id=body.get("user_id"), timestamp_micros=body.get("timestamp_micros"),
                                      payload=req.json if req.json is not None else req.body, **ctx)
            return Response(204, b"", content_type=None)
        return None

    def fail_response(self, req, kind):
        # the real collector only ever fails at the transport level; 5xx/429 without a body
        return Response(503 if kind == "server_error" else 429, b"", content_type=None)
