"""Conversions API (POST /{pixel_id}/events) for the Meta fake, mixed into
MetaFake. Whole-request rejection on any invalid event, as Graph does.
See data/protocols.md section 3.5."""
import ipaddress
import json
import re
import time

from fakebase import json_response, new_id

ACTION_SOURCES = {"website", "email", "app", "phone_call", "chat", "physical_store", "system_generated",
                  "business_messaging", "other"}
HASHED = {"em", "ph", "fn", "ln", "ge", "db", "ct", "st", "zp", "country", "external_id"}
HEX64 = re.compile(r"^[0-9a-f]{64}$")
FBC = re.compile(r"^fb\.\d+\.\d{13}\.\S+$")
FBP = re.compile(r"^fb\.\d+\.\d{13}\.\d+$")


class CapiMixin:
    def capi(self, req, pixel, tok):
        body = req.json if isinstance(req.json, dict) else None
        if body is None and req.content_type() == "application/x-www-form-urlencoded":
            body = req.form()
            try:
                body["data"] = json.loads(body.get("data", "null"))
            except ValueError:
                return self.gerr("(#100) param data must be an array.", 100)
        if body is None:
            return self.gerr("(#100) The parameter data is required", 100)
        data = body.get("data")
        if not isinstance(data, list) or not data:
            return self.gerr("(#100) param data must be an array.", 100)
        if len(data) > 1000:
            return self.gerr("(#100) You can send at most 1000 events per request.", 100)
        now = time.time()
        for i, ev in enumerate(data):
            problem = self.check_event(ev, now)
            if problem:
                title, msg, sub = problem
                return self.gerr("Invalid parameter", 100, sub, title=title, user_msg="%s (event index %d)" % (msg, i))
        with self.lock:
            for ev in data:
                self.record_event("capi", pixel, ev, test_event_code=body.get("test_event_code"))
        return json_response({"events_received": len(data), "messages": [], "fbtrace_id": new_id(nbytes=8)})

    def check_event(self, ev, now):
        """-> (title, message, subcode) or None."""
        if not isinstance(ev, dict):
            return "Invalid event", "Each event must be an object.", 2804019
        if not isinstance(ev.get("event_name"), str) or not ev["event_name"]:
            return "Missing event_name", "The parameter event_name is required.", 2804019
        t = ev.get("event_time")
        if not isinstance(t, int) or isinstance(t, bool):
            return "Invalid event_time", "event_time must be an integer Unix timestamp in seconds.", 2804019
        if t < now - 7 * 86400:
            return ("Event Timestamp Too Old", "The timestamp for this event is too far in the past. Events need to "
                    "be sent from your server within 7 days of when they occurred.", 2804003)
        if t > now + 600:
            return "Event Timestamp In The Future", "event_time cannot be in the future.", 2804004
        src = ev.get("action_source")
        if src not in ACTION_SOURCES:
            return "Invalid action_source", "action_source must be one of: %s." % ", ".join(sorted(ACTION_SOURCES)), 2804019
        ud = ev.get("user_data")
        if not isinstance(ud, dict):
            return "Missing user_data", "The parameter user_data is required.", 2804019
        if src == "website":
            if not ud.get("client_user_agent"):
                return "Missing client_user_agent", "client_user_agent is required for website events.", 2804019
            if not re.match(r"^https?://", str(ev.get("event_source_url", ""))):
                return "Missing event_source_url", "event_source_url is required for website events.", 2804019
        for k in HASHED & set(ud):
            v = ud[k]
            strict = k in ("em", "ph", "external_id")
            vals = v if isinstance(v, list) else ([v] if not strict else None)
            if vals is None or not vals or not all(isinstance(x, str) and HEX64.match(x) for x in vals):
                return ("Invalid %s" % k, "user_data.%s must be %s of lowercase hex SHA-256 hashes." % (
                    k, "an array" if strict else "a hash or an array"), 2804019)
        if "fbc" in ud and not (isinstance(ud["fbc"], str) and FBC.match(ud["fbc"])):
            return "Invalid fbc", "fbc must be formatted fb.<subdomainIndex>.<creationTime ms>.<fbclid>.", 2804019
        if "fbp" in ud and not (isinstance(ud["fbp"], str) and FBP.match(ud["fbp"])):
            return "Invalid fbp", "fbp must be formatted fb.<subdomainIndex>.<creationTime ms>.<random>.", 2804019
        if "client_ip_address" in ud:
            try:
                ipaddress.ip_address(str(ud["client_ip_address"]))
            except ValueError:
                return "Invalid client_ip_address", "client_ip_address must be a valid IP address.", 2804019
        cd = ev.get("custom_data", {})
        if not isinstance(cd, dict):
            return "Invalid custom_data", "custom_data must be an object.", 2804019
        if ev["event_name"] == "Purchase" and ("currency" not in cd or "value" not in cd):
            return "Missing value or currency", "Purchase events require custom_data.value and currency.", 2804019
        if "currency" in cd and not re.fullmatch(r"[A-Za-z]{3}", str(cd["currency"])):
            return "Invalid currency", "currency must be an ISO 4217 code.", 2804019
        if "value" in cd:
            try:
                float(cd["value"])
            except (TypeError, ValueError):
                return "Invalid value", "value must be a number.", 2804019
        return None
