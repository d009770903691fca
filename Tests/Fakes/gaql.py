"""A small GAQL engine for the Google Ads fake: parses SELECT/FROM/WHERE/
ORDER BY/LIMIT, runs it over the fake's metric rows and renders Google Ads
REST JSON (lowerCamelCase, int64 as strings, defaults omitted)."""
import datetime as dt
import re

from fakebase import aggregate, utc_today


class GaqlError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code        # QueryError enum name, e.g. UNRECOGNIZED_FIELD
        self.message = message


FIELDS = {
    "customer": {"id", "descriptive_name", "currency_code", "time_zone", "manager", "resource_name",
                 "status", "test_account"},
    "campaign": {"id", "name", "status", "resource_name", "advertising_channel_type"},
    "ad_group": {"id", "name", "status", "resource_name", "campaign", "type"},
    "ad_group_ad": {"ad.id", "ad.name", "status", "resource_name", "ad.resource_name", "ad_group",
                    "ad.type", "ad.final_urls"},
    "ad_group_criterion": {"criterion_id", "keyword.text", "keyword.match_type", "resource_name",
                           "status", "type"},
    "keyword_view": {"resource_name"},
    "segments": {"date"},
    "metrics": {"impressions", "clicks", "cost_micros", "conversions", "conversions_value", "ctr",
                "average_cpc", "all_conversions"},
}
ALLOWED = {
    "customer": {"customer"},
    "campaign": {"customer", "campaign"},
    "ad_group": {"customer", "campaign", "ad_group"},
    "ad_group_ad": {"customer", "campaign", "ad_group", "ad_group_ad"},
    "keyword_view": {"customer", "campaign", "ad_group", "ad_group_criterion", "keyword_view"},
}
KNOWN_RESOURCES = set(ALLOWED) | {"ad_group_criterion", "conversion_action", "ad", "search_term_view",
                                  "geographic_view", "customer_client", "label", "asset"}
GROUP_KEYS = {
    "customer": [], "campaign": ["campaign_id"], "ad_group": ["campaign_id", "ad_group_id"],
    "ad_group_ad": ["campaign_id", "ad_group_id", "ad_id"],
    "keyword_view": ["campaign_id", "ad_group_id", "keyword_id"],
}
INT64 = {"customer.id", "campaign.id", "ad_group.id", "ad_group_ad.ad.id", "ad_group_criterion.criterion_id",
         "metrics.impressions", "metrics.clicks", "metrics.cost_micros"}
DURING = {"TODAY": (0, 0), "YESTERDAY": (1, 1), "LAST_7_DAYS": (7, 1), "LAST_14_DAYS": (14, 1),
          "LAST_30_DAYS": (30, 1)}

CLAUSES = re.compile(
    r"^\s*SELECT\s+(?P<select>.+?)\s+FROM\s+(?P<from>\S+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?(?:\s+ORDER\s+BY\s+(?P<order>.+?))?"
    r"(?:\s+LIMIT\s+(?P<limit>\S+))?(?:\s+PARAMETERS\s+(?P<params>.+?))?\s*;?\s*$", re.I | re.S)
FIELD_RE = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")
COND_RE = re.compile(r"^([a-z_.]+)\s*(=|!=|>=|<=|>|<|NOT\s+IN|IN|NOT\s+LIKE|LIKE|DURING|IS\s+NOT\s+NULL|IS\s+NULL|"
                     r"CONTAINS\s+ANY|CONTAINS\s+ALL|CONTAINS\s+NONE|__BETWEEN__)\s*(.*)$", re.I | re.S)


def camel(s):
    head, *rest = s.split("_")
    return head + "".join(p.capitalize() for p in rest)


def camel_path(field):
    return ".".join(camel(p) for p in field.split("."))


def check_field(field, frm):
    if not FIELD_RE.match(field):
        raise GaqlError("BAD_FIELD_NAME", "Invalid field name: '%s'." % field)
    res, _, rest = field.partition(".")
    if res not in FIELDS or rest not in FIELDS[res]:
        raise GaqlError("UNRECOGNIZED_FIELD", "Unrecognized field in the query: '%s'." % field)
    if res not in ("segments", "metrics") and res not in ALLOWED[frm]:
        raise GaqlError("PROHIBITED_RESOURCE_TYPE_IN_SELECT_CLAUSE",
                        "Cannot select fields from the following resource: '%s', since the resource is "
                        "incompatible with the resource in FROM clause." % res)


def parse_value(text):
    text = text.strip()
    if text.startswith("(") and text.endswith(")"):
        return [parse_value(x) for x in re.findall(r"'[^']*'|\"[^\"]*\"|[^,\s]+", text[1:-1])]
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return float(text) if "." in text else int(text)
    if re.fullmatch(r"[A-Z_0-9]+", text):
        return text
    raise GaqlError("BAD_VALUE", "Invalid value: %s" % text)


def parse_date(s):
    try:
        return dt.date.fromisoformat(str(s))
    except ValueError:
        raise GaqlError("BAD_VALUE", "Invalid date value: '%s'." % s)


class Query:
    def __init__(self, text):
        if not isinstance(text, str) or not text.strip():
            raise GaqlError("QUERY_ERROR", "Missing or empty query.")
        if not re.match(r"^\s*SELECT\b", text, re.I):
            raise GaqlError("EXPECTED_SELECT", "Expected SELECT.")
        m = CLAUSES.match(text)
        if not m:
            if not re.search(r"\bFROM\b", text, re.I):
                raise GaqlError("EXPECTED_FROM", "Expected FROM.")
            raise GaqlError("UNEXPECTED_INPUT", "Error in query: unexpected input.")
        self.frm = m.group("from")
        if self.frm not in ALLOWED:
            raise GaqlError("BAD_RESOURCE_TYPE_IN_FROM_CLAUSE",
                            "Error in FROM clause: invalid resource name '%s'." % self.frm)
        self.fields = [f.strip() for f in m.group("select").split(",")]
        for f in self.fields:
            check_field(f, self.frm)
        self.since = self.until = None
        self.filters = []
        if m.group("where"):
            self._where(m.group("where"))
        if "segments.date" in self.fields and self.since is None:
            raise GaqlError("EXPECTED_FILTERS_ON_DATE_RANGE",
                            "Expected a filter on a date range when segments.date is selected.")
        self.order = []
        if m.group("order"):
            for part in m.group("order").split(","):
                bits = part.split()
                if not bits or len(bits) > 2 or (len(bits) == 2 and bits[1].upper() not in ("ASC", "DESC")):
                    raise GaqlError("UNEXPECTED_INPUT", "Invalid ORDER BY clause.")
                check_field(bits[0], self.frm)
                self.order.append((bits[0], len(bits) == 2 and bits[1].upper() == "DESC"))
        self.limit = None
        if m.group("limit"):
            if not re.fullmatch(r"\d+", m.group("limit")) or int(m.group("limit")) <= 0:
                raise GaqlError("BAD_LIMIT_VALUE", "Invalid LIMIT value.")
            self.limit = int(m.group("limit"))

    def _where(self, where):
        betweens = []

        def stash(mm):
            betweens.append((mm.group(2), mm.group(3)))
            return "%s __BETWEEN__ %d" % (mm.group(1), len(betweens) - 1)

        where = re.sub(r"([a-z_.]+)\s+BETWEEN\s+'([^']*)'\s+AND\s+'([^']*)'", stash, where, flags=re.I)
        if re.search(r"\bOR\b", where, re.I):
            raise GaqlError("UNEXPECTED_INPUT", "OR is not supported in GAQL.")
        for cond in re.split(r"\s+AND\s+", where, flags=re.I):
            cm = COND_RE.match(cond.strip())
            if not cm:
                raise GaqlError("BAD_OPERATOR" if re.match(r"^[a-z_.]+\s+\S", cond.strip()) else "UNEXPECTED_INPUT",
                                "Invalid condition: %s" % cond.strip())
            field, op, val = cm.group(1), re.sub(r"\s+", " ", cm.group(2).upper()), cm.group(3)
            check_field(field, self.frm)
            if field == "segments.date":
                self._date_cond(op, val, betweens)
            elif op in ("IS NULL", "IS NOT NULL"):
                self.filters.append((field, op, None))
            else:
                self.filters.append((field, op, parse_value(val)))

    def _date_cond(self, op, val, betweens):
        today = utc_today()
        if op == "__BETWEEN__":
            a, b = betweens[int(val)]
            s, u = parse_date(a), parse_date(b)
        elif op == "DURING":
            p = val.strip().upper()
            if p in DURING:
                s, u = today - dt.timedelta(DURING[p][0]), today - dt.timedelta(DURING[p][1])
            elif p == "THIS_MONTH":
                s, u = today.replace(day=1), today
            elif p == "LAST_MONTH":
                u = today.replace(day=1) - dt.timedelta(1)
                s = u.replace(day=1)
            else:
                raise GaqlError("BAD_ENUM_CONSTANT", "Invalid date range constant: %s" % p)
        elif op in ("=", ">=", "<=", ">", "<"):
            d = parse_date(parse_value(val))
            s, u = self.since or dt.date.min, self.until or dt.date.max
            if op == "=":
                s = u = d
            elif op == ">=":
                s = max(s, d)
            elif op == ">":
                s = max(s, d + dt.timedelta(1))
            elif op == "<=":
                u = min(u, d)
            else:
                u = min(u, d - dt.timedelta(1))
        else:
            raise GaqlError("BAD_OPERATOR", "Invalid operator for segments.date: %s" % op)
        if s > u:
            raise GaqlError("INVALID_VALUE_WITH_BETWEEN_OPERATOR" if op == "__BETWEEN__" else "BAD_VALUE",
                            "Start date must not be after end date.")
        self.since, self.until = s, u


def flat_values(g, cust, date):
    """All selectable field values for one aggregated group, as Python values."""
    c = cust["id"]
    v = {
        "customer.id": int(c), "customer.descriptive_name": cust["name"], "customer.currency_code": cust["currency"],
        "customer.time_zone": cust["time_zone"], "customer.manager": False, "customer.resource_name": "customers/" + c,
        "customer.status": "ENABLED", "customer.test_account": False,
        "metrics.impressions": g["impressions"], "metrics.clicks": g["clicks"],
        "metrics.cost_micros": int(g["cost"] * 1000000),
        "metrics.conversions": 0.0, "metrics.conversions_value": 0.0, "metrics.all_conversions": 0.0,
        "metrics.ctr": (g["clicks"] / g["impressions"]) if g["impressions"] else 0.0,
        "metrics.average_cpc": (int(g["cost"] * 1000000) / g["clicks"]) if g["clicks"] else 0.0,
    }
    if date:
        v["segments.date"] = date.isoformat()
    if "campaign_id" in g:
        v.update({"campaign.id": int(g["campaign_id"]), "campaign.name": g["campaign_name"],
                  "campaign.status": "ENABLED", "campaign.resource_name": "customers/%s/campaigns/%s" % (c, g["campaign_id"]),
                  "campaign.advertising_channel_type": "SEARCH"})
        gid, aid, kid = g["ad_group_id"], g["ad_id"], g["keyword_id"]
        v.update({"ad_group.id": int(gid), "ad_group.name": g["ad_group_name"], "ad_group.status": "ENABLED",
                  "ad_group.resource_name": "customers/%s/adGroups/%s" % (c, gid),
                  "ad_group.campaign": v["campaign.resource_name"], "ad_group.type": "SEARCH_STANDARD",
                  "ad_group_ad.ad.id": int(aid), "ad_group_ad.ad.name": g["ad_name"], "ad_group_ad.status": "ENABLED",
                  "ad_group_ad.resource_name": "customers/%s/adGroupAds/%s~%s" % (c, gid, aid),
                  "ad_group_ad.ad.resource_name": "customers/%s/ads/%s" % (c, aid),
                  "ad_group_ad.ad_group": "customers/%s/adGroups/%s" % (c, gid),
                  "ad_group_ad.ad.type": "RESPONSIVE_SEARCH_AD", "ad_group_ad.ad.final_urls": ["https://shop.example.com/"],
                  "ad_group_criterion.criterion_id": int(kid), "ad_group_criterion.keyword.text": g.get("keyword") or "",
                  "ad_group_criterion.keyword.match_type": g.get("match_type") or "EXACT",
                  "ad_group_criterion.resource_name": "customers/%s/adGroupCriteria/%s~%s" % (c, gid, kid),
                  "ad_group_criterion.status": "ENABLED", "ad_group_criterion.type": "KEYWORD",
                  "keyword_view.resource_name": "customers/%s/keywordViews/%s~%s" % (c, gid, kid)})
    return v


def matches(v, filters):
    for field, op, want in filters:
        have = v.get(field)
        w = want
        if isinstance(have, int) and isinstance(w, str) and w.lstrip("-").isdigit():
            w = int(w)
        if op == "=" and have != w or op == "!=" and have == w:
            return False
        if op in (">", "<", ">=", "<=") and not {">": have > w, "<": have < w, ">=": have >= w, "<=": have <= w}[op]:
            return False
        if op in ("IN", "NOT IN"):
            ws = [int(x) if isinstance(have, int) and str(x).lstrip("-").isdigit() else x for x in w]
            if (have in ws) != (op == "IN"):
                return False
        if op in ("LIKE", "NOT LIKE"):
            rx = "^" + re.escape(str(w)).replace("%", ".*").replace("_", ".") + "$"
            if bool(re.match(rx, str(have))) != (op == "LIKE"):
                return False
        if op == "IS NULL" and have is not None or op == "IS NOT NULL" and have is None:
            return False
    return True


def render(field, value, out):
    """Put one selected field into the nested camelCase row (omitting proto3 defaults)."""
    if value is None or value is False or value == "" or value == [] or (
            isinstance(value, (int, float)) and value == 0):
        return
    if field in INT64:
        value = str(value)
    parts = field.split(".")
    node = out
    for p in parts[:-1]:
        node = node.setdefault(camel(p), {})
    node[camel(parts[-1])] = value


def run(q, cust, rows):
    """Execute a parsed Query over metric rows -> list of REST result rows."""
    keys = GROUP_KEYS[q.frm]
    if q.frm == "keyword_view":
        rows = [r for r in rows if r.get("keyword")]
    by_date = "segments.date" in q.fields
    metrics = any(f.startswith("metrics.") for f in q.fields)
    if by_date:
        groups = aggregate(rows, keys, q.since, q.until, by_date=True)
        items = [(g, min(g["dates"])) for g in groups]
    else:
        entities = aggregate(rows, keys, by_date=False)
        if q.frm == "customer" and not entities:
            entities = [{"impressions": 0, "clicks": 0, "cost": 0}]
        sums = {tuple(g[k] for k in keys): g for g in aggregate(rows, keys, q.since, q.until, by_date=False)}
        items = []
        for e in entities:
            s = sums.get(tuple(e[k] for k in keys))
            if s is None:
                if metrics and q.frm in ("keyword_view", "ad_group_ad") and q.since:
                    continue  # views only return rows that have stats in range
                s = dict(e, impressions=0, clicks=0, cost=0)
            items.append((s, None))
    flats = [flat_values(g, cust, d) for g, d in items]
    flats = [v for v in flats if matches(v, q.filters)]
    for field, desc in reversed(q.order):
        flats.sort(key=lambda v: (v.get(field) is None, v.get(field)), reverse=desc)
    if q.limit:
        flats = flats[:q.limit]
    out = []
    for v in flats:
        row = {}
        for f in q.fields:
            render(f, v.get(f), row)
        # the API adds resourceName for every resource whose fields are selected
        for res in {f.split(".")[0] for f in q.fields} - {"metrics", "segments"}:
            row.setdefault(camel(res), {})["resourceName"] = v[res + ".resource_name"]
            if res == "ad_group_ad" and any(f.startswith("ad_group_ad.ad.") for f in q.fields):
                row[camel(res)].setdefault("ad", {})["resourceName"] = v["ad_group_ad.ad.resource_name"]
        out.append(row)
    return out


def field_mask(q):
    return ",".join(camel_path(f) for f in q.fields)
