"""Conversion uploads for the Google fake: Google Ads
customers/{id}:uploadClickConversions (partial failure) and Data Manager
events:ingest. Mixed into GoogleFake. See data/protocols.md section 2.5."""
import datetime as dt
import re
import time
import uuid

from fakebase import json_response, new_id

CONVERSION_FIELDS = {"gclid", "gbraid", "wbraid", "conversionAction", "conversionDateTime", "conversionValue",
                     "currencyCode", "orderId", "externalAttributionData", "customVariables", "cartData",
                     "userIdentifiers", "conversionEnvironment", "consent", "sessionAttributesEncoded",
                     "sessionAttributesKeyValuePairs", "userIpAddress"}
UPLOAD_FIELDS = {"conversions", "partialFailure", "validateOnly", "debugEnabled", "jobId"}
DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}:\d{2}$")
RFC3339_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")



def snake(name):
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)



class ConversionsMixin:
    def upload(self, req, version, cid):
        body = req.json
        unknown = [k for k in body if k not in UPLOAD_FIELDS and k not in {snake(x) for x in UPLOAD_FIELDS}]
        convs = body.get("conversions")
        if not unknown and isinstance(convs, list):
            for i, c in enumerate(convs):
                bad = [k for k in (c if isinstance(c, dict) else {}) if k not in CONVERSION_FIELDS
                       and k not in {snake(x) for x in CONVERSION_FIELDS}]
                if bad:
                    unknown = ["%s\" at 'conversions[%d]" % (bad[0], i)]
                    break
        if unknown:
            return self.ads_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received. Unknown name \"%s\": "
                                  "Cannot find field." % unknown[0])
        if not (body.get("partialFailure") or body.get("partial_failure")):
            return self.ads_error(400, "INVALID_ARGUMENT", "The partial failure field was false in the request. This "
                                  "method requires this field be set to true.",
                                  {"partialFailureError": "PARTIAL_FAILURE_MODE_REQUIRED"}, version)
        if not isinstance(convs, list) or not convs:
            return self.ads_error(400, "INVALID_ARGUMENT", "The required field was not present.",
                                  {"fieldError": "REQUIRED"}, version, location=[{"fieldName": "conversions"}])
        if len(convs) > 2000:
            return self.ads_error(400, "INVALID_ARGUMENT", "The request contains more than 2000 conversions.",
                                  {"conversionUploadError": "TOO_MANY_CONVERSIONS_IN_REQUEST"}, version)
        validate_only = bool(body.get("validateOnly") or body.get("validate_only"))
        results, errors, seen = [], [], set()
        with self.lock:
            for i, c in enumerate(convs):
                err = self.check_conversion(cid, c, seen) if isinstance(c, dict) else \
                    ({"requestError": "INVALID_INPUT"}, "Conversion must be an object.", None)
                if err:
                    code, msg, field = err
                    loc = [{"fieldName": "conversions", "index": i}] + ([{"fieldName": field}] if field else [])
                    errors.append({"errorCode": code, "message": msg, "location": {"fieldPathElements": loc},
                                   "trigger": {"stringValue": str(c.get(field, ""))} if field and isinstance(c, dict) else None})
                    results.append({})
                    continue
                key = [k for k in ("gclid", "gbraid", "wbraid") if c.get(k)][0]
                results.append({key: c[key], "conversionAction": c["conversionAction"],
                                "conversionDateTime": c["conversionDateTime"]})
                if not validate_only:
                    self.uploaded.add((cid, c[key], c["conversionAction"], c["conversionDateTime"]))
                    self.record_event("uploadClickConversions", cid, c, version=version)
        out = {"results": results, "jobId": str(int(time.time() * 1000) % 10**10)}
        if errors:
            for e in errors:
                if e["trigger"] is None:
                    del e["trigger"]
            msgs = ["%s, at conversions[%d]%s" % (e["message"], e["location"]["fieldPathElements"][0]["index"],
                    "." + e["location"]["fieldPathElements"][1]["fieldName"]
                    if len(e["location"]["fieldPathElements"]) > 1 else "") for e in errors]
            out["partialFailureError"] = {"code": 3, "message": ", ".join(msgs), "details": [{
                "@type": "type.googleapis.com/google.ads.googleads.%s.errors.GoogleAdsFailure" % version,
                "errors": errors, "requestId": new_id(nbytes=12)}]}
        return json_response(out)

    def check_conversion(self, cid, c, seen):
        ids = [k for k in ("gclid", "gbraid", "wbraid") if c.get(k)]
        if not ids:
            return {"requestError": "REQUIRED_FIELD_MISSING"}, "One of gclid, gbraid or wbraid is required.", None
        if len(ids) > 1:
            return ({"conversionUploadError": "GBRAID_WBRAID_BOTH_SET"},
                    "Only one of gclid, gbraid and wbraid may be set.", ids[1])
        m = re.fullmatch(r"customers/(\d+)/conversionActions/(\d+)", str(c.get("conversionAction", "")))
        if not m:
            return {"requestError": "RESOURCE_NAME_MALFORMED"}, "The resource name is malformed.", "conversionAction"
        if m.group(1) != cid:
            return ({"conversionUploadError": "NO_CONVERSION_ACTION_FOUND"},
                    "The conversion action specified in the upload request cannot be found.", "conversionAction")
        dtv = str(c.get("conversionDateTime", ""))
        if not DATETIME_RE.match(dtv) or not _valid_datetime(dtv):
            return ({"dateError": "INVALID_FIELD_VALUES_IN_DATE_TIME"},
                    "The field values in the date time are invalid; expected yyyy-mm-dd hh:mm:ss+|-hh:mm.",
                    "conversionDateTime")
        if "conversionValue" in c and not isinstance(c["conversionValue"], (int, float)):
            return {"requestError": "INVALID_INPUT"}, "conversionValue must be a number.", "conversionValue"
        click = str(c[ids[0]])
        if click.startswith("EXPIRED"):
            return {"conversionUploadError": "EXPIRED_EVENT"}, "The click is too old to be imported.", ids[0]
        if click.startswith("TOORECENT"):
            return {"conversionUploadError": "TOO_RECENT_EVENT"}, "The click is too recent to be imported.", ids[0]
        if click.startswith("INVALID") or re.search(r"\s", click):
            return {"conversionUploadError": "UNPARSEABLE_%s" % ids[0].upper()}, \
                "The click ID could not be decoded.", ids[0]
        key = (cid, click, c["conversionAction"], dtv)
        if key in seen:
            return ({"conversionUploadError": "DUPLICATE_CLICK_CONVERSION_IN_REQUEST"},
                    "This click conversion is duplicated in the request.", ids[0])
        seen.add(key)
        if key in self.uploaded:
            return ({"conversionUploadError": "CLICK_CONVERSION_ALREADY_EXISTS"},
                    "A conversion with the same click and conversion time has already been uploaded.", ids[0])
        return None

    # ----- Data Manager -----------------------------------------------------
    def ingest(self, req):
        if req.method != "POST":
            return self.ads_error(404, "NOT_FOUND", "Method not found.")
        err = self.check_token(req, "v1", self.DM_SCOPE)
        if err:
            return err
        if req.content_type() != "application/json" or not isinstance(req.json, dict):
            return self.ads_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        body, v = req.json, []
        dests = body.get("destinations")
        if not isinstance(dests, list) or not dests:
            v.append(("destinations", "At least one destination is required."))
        for i, d in enumerate(dests if isinstance(dests, list) else []):
            for key in ("operatingAccount", "loginAccount"):
                acct = d.get(key) if isinstance(d, dict) else None
                if acct is None and key == "loginAccount":
                    continue
                if not isinstance(acct, dict) or acct.get("accountType") not in (
                        "GOOGLE_ADS", "DISPLAY_VIDEO_PARTNER", "DISPLAY_VIDEO_ADVERTISER", "DATA_PARTNER"):
                    v.append(("destinations[%d].%s.accountType" % (i, snake(key)), "Invalid or missing account type."))
                elif not re.fullmatch(r"\d+", str(acct.get("accountId", ""))):
                    v.append(("destinations[%d].%s.accountId" % (i, snake(key)), "Account id must be digits only."))
                elif key == "operatingAccount" and acct["accountType"] == "GOOGLE_ADS" and \
                        acct["accountId"] not in self.CUSTOMERS:
                    return self.ads_error(403, "PERMISSION_DENIED", "The caller does not have permission")
            if not isinstance(d, dict) or not d.get("productDestinationId"):
                v.append(("destinations[%d].product_destination_id" % i, "Required."))
        events = body.get("events")
        if not isinstance(events, list) or not events:
            v.append(("events", "At least one event is required."))
        elif len(events) > 2000:
            v.append(("events", "Too many events: at most 2000 per request."))
        for i, e in enumerate(events if isinstance(events, list) and len(events) <= 2000 else []):
            if not isinstance(e, dict):
                v.append(("events[%d]" % i, "Must be an object."))
                continue
            if not RFC3339_RE.match(str(e.get("eventTimestamp", ""))):
                v.append(("events[%d].event_timestamp" % i, "Required RFC 3339 timestamp."))
            ad = e.get("adIdentifiers")
            if not (isinstance(ad, dict) and any(ad.get(k) for k in ("gclid", "gbraid", "wbraid"))) \
                    and not e.get("userData"):
                v.append(("events[%d].ad_identifiers" % i, "An ad identifier (gclid, gbraid, wbraid) or user data "
                                                           "is required."))
            if "conversionValue" in e and not isinstance(e["conversionValue"], (int, float)):
                v.append(("events[%d].conversion_value" % i, "Must be a number."))
            if "currency" in e and not re.fullmatch(r"[A-Z]{3}", str(e["currency"])):
                v.append(("events[%d].currency" % i, "Must be an ISO 4217 code."))
            if "eventSource" in e and e["eventSource"] not in ("WEB", "APP", "IN_STORE", "PHONE", "OTHER"):
                v.append(("events[%d].event_source" % i, "Invalid event source."))
        if "encoding" in body and body["encoding"] not in ("HEX", "BASE64"):
            v.append(("encoding", "Invalid encoding."))
        if v:
            rid = new_id(nbytes=12)
            return json_response({"error": {"code": 400, "message": "Request contains an invalid argument.",
                                            "status": "INVALID_ARGUMENT", "details": [{
                                                "@type": "type.googleapis.com/google.rpc.BadRequest",
                                                "fieldViolations": [{"field": f, "description": d} for f, d in v]}]}},
                                 400, {"request-id": rid})
        if not body.get("validateOnly"):
            with self.lock:
                for e in events:
                    for d in dests:
                        self.record_event("events:ingest", d["operatingAccount"]["accountId"], e,
                                          product_destination_id=d["productDestinationId"])
        return json_response({"requestId": str(uuid.uuid4())})


def _valid_datetime(s):
    try:
        dt.datetime.strptime(s[:19], "%Y-%m-%d %H:%M:%S")
        return int(s[-5:-3]) <= 14 and int(s[-2:]) < 60
    except ValueError:
        return False
