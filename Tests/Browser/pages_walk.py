#!/usr/bin/python3
"""Walks every admin page at a laptop width (1366x900) and a phone width (390x844) in headless
Chromium (run by BrowserIntegrationTests; signs in as an owner).

First it makes what the pages need to show something: an API token (through the Tokens form),
then through the JSON API a workspace, a traffic source, an offer, a lander, a flow, a campaign
on the flow, a spend entry and a spend feed; through the forms a test postback (a click, a
conversion and a delivery), a webhook, a Meta connection to the fake (the account selection
page) and a CSV upload's preview.

Then for each page and width:
  - no page-level horizontal scroll: document.documentElement.scrollWidth <= the viewport (wide
    tables scroll inside their own box);
  - nothing cut off: no visible element sticks out of the viewport unless it is inside a
    scrolling box; at 1366 px the navigation is on one line; at 390 px it is behind the Menu
    button, which opens it without JavaScript;
  - nothing in the browser console at error level (a script error, an inline style the CSP
    refuses, a missing file);
  - axe-core (axe_selenium_python.Axe, injecting the axe-core 4.x that axe-core-python ships when
    it is installed, else axe-selenium-python's own 3.1; WAYMARK_AXE_SCRIPT=path picks another):
    no violation of impact "serious" or "critical" (every violation of a failing page is printed:
    id, impact, targets, help; lesser ones are named on the ok line).
A screenshot of every page at every width goes to <artifacts>/pages/<name>-<width>.png. One line
per page and width (ok / FAIL …), then a summary; exit status 1 when anything failed.

On the test instance (WAYMARK_TEST_ROUTES=1) the list of the responder's GET routes is checked
against the walk, so a new page that is not walked fails here too (and a page this responder
does not serve yet is skipped). WAYMARK_WALK_ONLY=name,name walks only those pages (the data
is still made), to look again at a few while fixing them."""
import base64
import json
import os
import re
import sys
import tempfile
import time
import urllib.parse

try:
    import axe_selenium_python
    from axe_selenium_python import Axe
except ImportError:
    print("pages walk: axe-selenium-python is missing for %s: PYTHON=%s scripts/pydeps.sh browser" % (sys.executable, sys.executable))
    sys.exit(1)
from browser import ARTIFACTS, BASE, EMAIL, PASSWORD
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

WIDTHS = [(1366, 900), (390, 844)]


def axe_script():
    """The axe-core to inject: WAYMARK_AXE_SCRIPT, else the newer axe-core that the
    axe-core-python package ships (4.x), else the one inside axe-selenium-python (3.1)."""
    if os.environ.get("WAYMARK_AXE_SCRIPT"):
        return os.environ["WAYMARK_AXE_SCRIPT"]
    try:
        import axe_core_python
        newer = os.path.join(os.path.dirname(axe_core_python.__file__), "axe.min.js")
        if os.path.exists(newer):
            return newer
    except ImportError:
        pass
    return os.path.join(os.path.dirname(axe_selenium_python.__file__), "node_modules", "axe-core", "axe.min.js")


AXE = axe_script()
SHOTS = os.path.join(ARTIFACTS, "pages")
tag = "%d" % int(time.time() * 1000)

# GET routes that are not admin pages (or cannot be shown by themselves): the API, tracking and
# postback endpoints, downloads, JSON progress, the OAuth round trip and the test routes.
NOT_PAGES = re.compile(
    r"^(/api/|/__test/|/c/|/click(/|$)|/postback$|/pixel\.gif$|/healthz$|/metrics$|/oauth/|/static/)"
    r"|\.csv$|^/spend/uploads/\{id\}/progress$|/integrations/\{provider\}/connect$")

# What each page, at each width, found wrong; and the route patterns walked.
results = []
walked = set()


def driver_for_walk():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--ignore-certificate-errors", "--disable-gpu",
                "--disable-dev-shm-usage", "--window-size=1366,900"):
        options.add_argument(arg)
    # The console's errors (a script error, a refused inline style, a missing file) fail the page.
    options.set_capability("goog:loggingPrefs", {"browser": "SEVERE"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    return driver


def emulate(driver, width, height):
    """The viewport of a laptop (1366) or a phone (390, a mobile viewport: meta viewport applies)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 700})


def api(driver, token, method, path, body=None):
    """A JSON API call from the page (same origin, the instance's certificate already accepted)."""
    script = """
        const [method, url, token, body, done] = arguments;
        fetch(url, {method, headers: Object.assign({"Authorization": "Bearer " + token},
              body === null ? {} : {"Content-Type": "application/json"}),
              body: body === null ? undefined : JSON.stringify(body)})
          .then(r => r.text().then(t => done([r.status, t])))
          .catch(e => done([0, String(e)]));"""
    status, text = driver.execute_async_script(script, method, BASE + path, token, body)
    if status not in (200, 201, 202):
        raise AssertionError("%s %s answered %s: %s" % (method, path, status, text[:500]))
    return json.loads(text) if text.strip() else {}


def submit(driver, wait, selector):
    """Presses a form's button and waits for the next page. The page is loaded first, and a
    click that Chromium loses to a node replaced meanwhile ("does not belong to the document")
    is tried again."""
    loaded(driver)
    for attempt in range(3):
        old = driver.find_element(By.TAG_NAME, "html")
        try:
            driver.find_element(By.CSS_SELECTOR, selector).click()
            break
        except WebDriverException:
            if attempt == 2:
                raise
            time.sleep(0.5)
    wait.until(EC.staleness_of(old))
    loaded(driver)


def from_the_start(fill, attempts=3):
    """Runs a form's whole fill-and-submit again when Chromium loses a node of a page that was
    still being replaced ("does not belong to the document"): the page is loaded afresh each time."""
    for attempt in range(attempts):
        try:
            return fill()
        except WebDriverException:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)


def loaded(driver):
    """Waits for the page (after any redirect) to have loaded."""
    WebDriverWait(driver, 15, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script("return document.readyState") == "complete")


# What the page is checked for, in the page: overflow, things cut off, the navigation's lines.
CHECK_LAYOUT = r"""
const width = arguments[0];
const problems = [];
const doc = document.documentElement;
const viewport = Math.min(doc.clientWidth, width);
if (doc.scrollWidth > viewport) problems.push("page scrolls sideways: scrollWidth " + doc.scrollWidth + " > " + viewport);
if (document.body.scrollWidth > viewport) problems.push("body scrollWidth " + document.body.scrollWidth + " > " + viewport);
const visible = (e) => {
  if (e.checkVisibility && !e.checkVisibility({visibilityProperty: true})) return false;
  const s = getComputedStyle(e);
  if (s.visibility === "hidden" || s.display === "none") return false;
  const r = e.getBoundingClientRect();
  return r.width > 1 && r.height > 1;
};
const inScrollBox = (e) => {
  for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
    const o = getComputedStyle(p).overflowX;
    if (o === "auto" || o === "scroll") return true;
  }
  return false;
};
const name = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") +
  (typeof e.className === "string" && e.className ? "." + e.className.trim().split(/\s+/).join(".") : "") +
  (e.textContent.trim() ? " '" + e.textContent.trim().replace(/\s+/g, " ").slice(0, 40) + "'" : "");
let reported = 0;
for (const e of document.querySelectorAll("body *")) {
  if (reported >= 8) break;
  if (["SCRIPT", "STYLE", "TITLE", "OPTION"].includes(e.tagName) || !visible(e)) continue;
  const r = e.getBoundingClientRect();
  const out = r.left < -1 || r.right > viewport + 1;
  // Text that does not wrap (a long id or URL) runs out of its box without widening it.
  const runs = !out && getComputedStyle(e).overflowX === "visible" && e.clientWidth > 0 &&
    r.left + e.scrollWidth > viewport + 1 && e.scrollWidth > e.clientWidth + 1;
  if ((out || runs) && !inScrollBox(e)) {
    problems.push((out ? "cut off at the edge: " : "text runs past the edge: ") + name(e) + " spans " + Math.round(r.left) + "–" +
      Math.round(out ? r.right : r.left + e.scrollWidth));
    reported++;
  }
}
// The header: every control visible and whole, none clipped by its box.
const header = document.querySelector("header");
if (header) {
  for (const e of header.querySelectorAll("a, button, select, input, label, summary, span, strong, small")) {
    if (!visible(e)) continue;
    const r = e.getBoundingClientRect();
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      const s = getComputedStyle(p);
      if (s.overflowX === "visible" && s.overflowY === "visible") continue;
      const b = p.getBoundingClientRect();
      if (r.left < b.left - 1 || r.right > b.right + 1 || r.top < b.top - 1 || r.bottom > b.bottom + 1) {
        problems.push("header item clipped: " + name(e));
        break;
      }
    }
    if (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== "visible" && e.tagName !== "SELECT") {
      problems.push("header text cut: " + name(e));
    }
  }
}
// No two items of the bar on top of each other.
const items = header ? [...header.querySelectorAll(".brand, .nav-toggle-label, header nav > ul > li, .workspace-filter, .who")].filter(visible) : [];
for (let i = 0; i < items.length; i++) {
  for (let j = i + 1; j < items.length; j++) {
    if (items[i].contains(items[j]) || items[j].contains(items[i])) continue;
    const a = items[i].getBoundingClientRect(), b = items[j].getBoundingClientRect();
    if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1) {
      problems.push("header items overlap: " + name(items[i]) + " / " + name(items[j]));
    }
  }
}
// At a laptop width the whole bar is one line: the brand, the menu groups, the filter, the user.
const nav = document.querySelector("header nav");
const lines = new Set();
if (nav && visible(nav) && width >= 1000) {
  for (const e of header.querySelectorAll(".brand, nav > ul > li > :first-child, .workspace-filter, .who")) {
    if (!visible(e)) continue;
    const r = e.getBoundingClientRect();
    lines.add(Math.round((r.top + r.bottom) / 2 / 12));
  }
  if (lines.size > 1) problems.push("the top bar takes " + lines.size + " lines at " + width + " px");
}
return problems;
"""

# The phone menu: closed, the navigation is hidden; the Menu button opens it (no script needed).
CHECK_MENU = r"""
const nav = document.querySelector("header nav");
const toggle = document.querySelector("header .nav-toggle-label");
const shown = (e) => !!e && (e.checkVisibility ? e.checkVisibility({visibilityProperty: true}) : getComputedStyle(e).display !== "none")
  && e.getBoundingClientRect().height > 0;
return {nav: shown(nav), toggle: shown(toggle), links: nav ? [...nav.querySelectorAll("a")].filter(shown).length : 0};
"""


def shoot(driver, name, width):
    path = os.path.join(SHOTS, "%s-%d.png" % (name, width))
    try:
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "optimizeForSpeed": True})
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
    except Exception:
        driver.save_screenshot(path)
    return path


def axe_check(driver):
    """Serious or critical violations, and every violation (as printable lines)."""
    axe = Axe(driver, script_url=AXE)
    axe.inject()
    found = axe.run(options='{"resultTypes": ["violations"]}')
    lines, bad = [], []
    for v in found.get("violations", []):
        targets = ["/".join(t) if isinstance(t, list) else t for n in v["nodes"] for t in n["target"]]
        lines.append("    axe %s (%s): %s; on %s" % (v["id"], v["impact"], v["help"], ", ".join(targets[:6]) + (" …" if len(targets) > 6 else "")))
        if v["impact"] in ("serious", "critical"):
            bad.append("%s (%s)" % (v["id"], v["impact"]))
    return bad, lines


def console_errors(driver, error_page=False):
    """What the page logged as errors since the last look (an error page's own 404 aside)."""
    found = []
    for entry in driver.get_log("browser"):
        message = entry.get("message", "")
        if "favicon.ico" in message or (error_page and " 404 " in message):
            continue
        found.append("console: " + message[:200])
    return found[:3]


def check_here(driver, name, width, expect_path=None, error_page=False):
    """Checks the page as it is now shown, at one width."""
    problems = []
    path = urllib.parse.urlsplit(driver.current_url).path
    if expect_path is not None and path != expect_path:
        problems.append("landed on %s" % driver.current_url)
    # The app's error page, or nginx's (a 502 while the responder restarts).
    errored = bool(driver.find_elements(By.CSS_SELECTOR, "body.error-page")) or bool(re.match(r"\d{3} ", driver.title))
    if errored != error_page:
        problems.append("an error page: " + driver.title if not error_page else "not an error page")
    problems += driver.execute_script(CHECK_LAYOUT, width)
    problems += console_errors(driver, error_page)
    if width < 700 and driver.find_elements(By.CSS_SELECTOR, "header nav"):
        closed = driver.execute_script(CHECK_MENU)
        if closed["nav"] or not closed["toggle"]:
            problems.append("phone: the navigation is not behind a Menu button (%r)" % closed)
    # axe-core once per page, at the laptop width (its rules do not depend on the width; the
    # phone width is checked for overflow, cut-off text and the menu above): half the time.
    bad, lines = axe_check(driver) if width == WIDTHS[0][0] else ([], [])
    if bad:
        problems.append("axe: " + ", ".join(bad))
    shot = shoot(driver, name, width)
    results.append((name, width, not problems))
    if problems:
        print("FAIL %-22s %4d  %s  [%s]" % (name, width, "; ".join(problems), shot))
        for line in lines:
            print(line)
    else:
        minor = sorted({l.split()[1] for l in lines})
        print("ok   %-22s %4d%s" % (name, width, ("  (minor/moderate axe: %s)" % ", ".join(minor)) if minor else ""))
    sys.stdout.flush()


def served(pattern):
    """Whether the responder has this GET route (always, when its route list is not known)."""
    return ROUTES is None or pattern in ROUTES


def visit(driver, name, path, pattern=None, error_page=False):
    """Loads `path` at each width and checks it; `pattern` is its route (default: the path)."""
    pattern = pattern or urllib.parse.urlsplit(path).path
    if ONLY and name not in ONLY:
        walked.add(pattern)
        return
    if not served(pattern):
        print("skip %-22s       (this responder has no GET %s)" % (name, pattern))
        return
    walked.add(pattern)
    for width, height in WIDTHS:
        emulate(driver, width, height)
        try:
            driver.get(BASE + path)
            loaded(driver)
            check_here(driver, name, width, urllib.parse.urlsplit(path).path, error_page)
        except Exception as error:
            results.append((name, width, False))
            print("FAIL %-22s %4d  %s: %s  [%s]" % (name, width, type(error).__name__, error, shoot(driver, name, width)))


def check_both_widths(driver, name):
    """A page a form answered (not loaded again): checked at both widths as it stands."""
    if ONLY and name not in ONLY:
        return
    for width, height in WIDTHS:
        emulate(driver, width, height)
        time.sleep(0.3)
        check_here(driver, name, width)
    emulate(driver, *WIDTHS[0])  # the steps after it fill forms at the laptop width


def phone_menu_without_script(driver):
    """At 390 px, with JavaScript off: the Menu button opens the navigation, a group opens its links."""
    emulate(driver, 390, 844)
    driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        driver.get(BASE + "/campaigns")
        closed = driver.execute_script(CHECK_MENU)
        driver.find_element(By.CSS_SELECTOR, "header .nav-toggle-label").click()
        opened = driver.execute_script(CHECK_MENU)
        groups = [e for e in driver.find_elements(By.CSS_SELECTOR, "header nav summary") if e.is_displayed()]
        for summary in groups:
            if summary.find_element(By.XPATH, "..").get_attribute("open") is None:
                summary.click()
        expanded = driver.execute_script(CHECK_MENU)
        ok = not closed["nav"] and closed["toggle"] and opened["nav"] and expanded["links"] >= 12
        shot = shoot(driver, "phone-menu-no-js", 390)
        results.append(("phone-menu", 390, ok))
        print("%s %-22s %4d  closed: %r; after Menu: %r; groups opened: %d links%s" % (
            "ok  " if ok else "FAIL", "phone-menu (no JS)", 390, closed, opened, expanded["links"], "" if ok else "  [%s]" % shot))
    finally:
        driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})


ROUTES = None
# WAYMARK_WALK_ONLY=name,name: only these pages (to look again at a few while fixing them).
ONLY = set(filter(None, os.environ.get("WAYMARK_WALK_ONLY", "").split(",")))


def main():
    global ROUTES
    os.makedirs(SHOTS, exist_ok=True)
    started = time.time()
    driver = driver_for_walk()
    wait = WebDriverWait(driver, 15)
    step = "start"
    try:
        step = "the responder's routes"
        driver.get(BASE + "/__test/routes")
        try:
            ROUTES = {r["pattern"] for r in json.loads(driver.find_element(By.TAG_NAME, "body").text) if r["method"] == "GET"}
        except ValueError:
            print("note: no /__test/routes here (not the test instance): every page is walked, route coverage is not checked")
        version = driver.execute_script(open(AXE, encoding="utf8").read() + "; return axe.version")
        print("axe-core: %s (%s)" % (version, AXE))
        if version.startswith(("1.", "2.", "3.")):
            print("note: axe-core %s is the 2018 engine axe-selenium-python bundles; its retired rules (radiogroup, checkboxgroup) and "
                  "old autocomplete table report what 4.x does not: install axe-core-python (scripts/pydeps.sh)" % version)

        step = "the sign-in page"
        visit(driver, "login", "/login")

        step = "sign in"
        emulate(driver, 1366, 900)
        driver.get(BASE + "/login")
        driver.find_element(By.NAME, "email").send_keys(EMAIL)
        driver.find_element(By.NAME, "password").send_keys(PASSWORD)
        submit(driver, wait, "form button[type=submit]")
        assert "/login" not in driver.current_url, "sign-in refused"

        step = "an API token through the Tokens form"
        driver.get(BASE + "/tokens")
        driver.find_element(By.NAME, "name").send_keys("pages walk %s" % tag)
        submit(driver, wait, "main form.card button[type=submit]")
        token = driver.find_element(By.ID, "new-token").text.strip()
        check_both_widths(driver, "token-created")

        step = "data through the JSON API"
        workspace = api(driver, token, "POST", "/api/v1/workspaces", {"name": "Walk %s" % tag, "timezone": "Europe/Berlin"})["id"]
        source = api(driver, token, "POST", "/api/v1/traffic-sources", {
            "name": "Walk source %s" % tag, "workspace_id": workspace, "template": "facebook", "cost_currency": "USD",
            "postback": {"enabled": True, "url": "https://postback.invalid/pb?c={external_id}&p={payout}"}})["id"]
        offer = api(driver, token, "POST", "/api/v1/offers", {
            "name": "Walk offer %s" % tag, "workspace_id": workspace, "url": BASE + "/static/waymark.css?s={clickid}", "payout": "2.00"})["id"]
        lander = api(driver, token, "POST", "/api/v1/landers", {
            "name": "Walk lander %s" % tag, "workspace_id": workspace, "url": BASE + "/static/waymark.js?c={clickid}", "offers_count": 2})["id"]
        flow = api(driver, token, "POST", "/api/v1/flows", {
            "name": "Walk flow %s" % tag, "workspace_id": workspace,
            "paths": [{"name": "Mobile", "rules": [{"field": "device", "op": "in", "values": ["mobile"]}],
                       "landers": [{"lander_id": lander, "weight": 1}], "offers": [{"offer_id": offer, "weight": 1}]},
                      {"name": "Default", "rules": [], "landers": [{"lander_id": lander, "weight": 1}],
                       "offers": [{"offer_id": offer, "weight": 1}]}]})["id"]
        campaign = api(driver, token, "POST", "/api/v1/campaigns", {
            "name": "Walk campaign %s" % tag, "traffic_source_id": source, "flow_id": flow,
            "cost_model": {"type": "cpc", "amount": "0.05"}})["id"]
        today = time.strftime("%Y-%m-%d", time.gmtime())
        api(driver, token, "POST", "/api/v1/spend", {"entries": [
            {"date": today, "traffic_source_id": source, "campaign_id": campaign, "amount": "12.50", "currency": "USD"}]})
        feed = api(driver, token, "POST", "/api/v1/traffic-sources/%d/spend-feeds" % source, {
            "name": "Walk feed %s" % tag, "url": "https://network.invalid/cost.csv?from={from}&to={to}", "format": "csv",
            "lookback_days": 2, "schedule": {"daily_at": "06:00"},
            "mapping": {"date": "Day", "campaign": "Campaign", "campaign_match": "key", "amount": "Spend", "fixed_currency": "USD"}})["id"]
        # A postback no click matches, for the unattributed list.
        driver.execute_async_script("fetch(arguments[0]).then(() => arguments[1]())",
                                    BASE + "/postback?clickid=walk-unknown-%s&payout=1.5" % tag)

        step = "a test postback from the Tracking tab (a click, a conversion, a delivery)"
        driver.get(BASE + "/campaigns/%d/tracking" % campaign)
        submit(driver, wait, "form[action$='/postback-test'] button[type=submit]")
        assert "/clicks/" in driver.current_url, driver.current_url
        click = urllib.parse.unquote(urllib.parse.urlsplit(driver.current_url).path.split("/clicks/")[1])

        step = "a webhook through its form"
        driver.get(BASE + "/webhooks")
        Select(driver.find_element(By.CSS_SELECTOR, "form[action='/webhooks'] select[name=workspace_id]")).select_by_value(str(workspace))
        driver.find_element(By.CSS_SELECTOR, "form[action='/webhooks'] input[name=url]").send_keys("https://hooks.invalid/waymark")
        submit(driver, wait, "form[action='/webhooks'] button[type=submit]")

        step = "a second user through the Users form"
        driver.get(BASE + "/users/new")
        driver.find_element(By.NAME, "email").send_keys("walk-member-%s@example.test" % tag)
        driver.find_element(By.NAME, "password").send_keys("walk-member-pass-42")
        Select(driver.find_element(By.NAME, "role")).select_by_value("member")
        submit(driver, wait, "main form.card button[type=submit]")

        step = "Meta connected to the fake, up to the account selection"
        authorize = api(driver, token, "POST", "/api/v1/traffic-sources/%d/integrations/meta/connect" % source)["authorize_url"]
        driver.get(authorize)
        wait.until(EC.presence_of_element_located((By.ID, "account-selection")))
        check_both_widths(driver, "integration-choose")
        emulate(driver, 1366, 900)
        driver.find_element(By.CSS_SELECTOR, "input[name=account_id]").click()
        submit(driver, wait, "#account-selection button[type=submit]")

        step = "the pages"
        visit(driver, "home", "/")
        visit(driver, "reports", "/reports?preset=last30")
        # The walk's own workspace: an instance with a long history would make this table (and axe's pass over it) huge.
        visit(driver, "reports-by-campaign-day", "/reports?preset=last30&group_by=campaign,day&workspace_id=%d" % workspace)
        visit(driver, "reports-by-offer", "/reports?preset=last30&group_by=offer")
        visit(driver, "reports-drill-campaign", "/reports?preset=last30&traffic_source_id=%d&campaign_id=%d" % (source, campaign))
        visit(driver, "reports-definitions", "/reports/definitions")
        visit(driver, "sources", "/traffic-sources")
        visit(driver, "source-templates", "/traffic-sources/new")
        visit(driver, "source-new", "/traffic-sources/new?template=custom")
        visit(driver, "source", "/traffic-sources/%d" % source, "/traffic-sources/{id}")
        visit(driver, "integrations", "/traffic-sources/%d/integrations" % source, "/traffic-sources/{id}/integrations")
        visit(driver, "integration-meta", "/traffic-sources/%d/integrations/meta" % source, "/traffic-sources/{id}/integrations/{provider}")
        visit(driver, "integration-ga4", "/traffic-sources/%d/integrations/ga4" % source, "/traffic-sources/{id}/integrations/{provider}")
        visit(driver, "spend-feeds", "/traffic-sources/%d/spend-feeds" % source, "/traffic-sources/{id}/spend-feeds")
        visit(driver, "spend-feed", "/traffic-sources/%d/spend-feeds/%d" % (source, feed), "/traffic-sources/{id}/spend-feeds/{feed}")
        visit(driver, "campaigns", "/campaigns")
        visit(driver, "campaign-new", "/campaigns/new")
        visit(driver, "campaign", "/campaigns/%d" % campaign, "/campaigns/{id}")
        visit(driver, "campaign-tracking", "/campaigns/%d/tracking" % campaign, "/campaigns/{id}/tracking")
        visit(driver, "offers", "/offers")
        visit(driver, "offer-new", "/offers/new")
        visit(driver, "offer", "/offers/%d" % offer, "/offers/{id}")
        visit(driver, "landers", "/landers")
        visit(driver, "lander-new", "/landers/new")
        visit(driver, "lander", "/landers/%d" % lander, "/landers/{id}")
        visit(driver, "flows", "/flows")
        visit(driver, "flow-new", "/flows/new")
        visit(driver, "flow", "/flows/%d" % flow, "/flows/{id}")
        visit(driver, "split-test", "/flows/%d/split-test?path=1" % flow, "/flows/{id}/split-test")
        visit(driver, "conversions", "/conversions")
        visit(driver, "unattributed", "/conversions/unattributed")
        visit(driver, "click-journey", "/clicks/" + urllib.parse.quote(click), "/clicks/{click_id}")
        visit(driver, "events", "/events")
        visit(driver, "spend", "/spend")
        visit(driver, "spend-new", "/spend/new")
        visit(driver, "spend-upload", "/spend/upload")
        visit(driver, "fx", "/fx")
        visit(driver, "webhooks", "/webhooks")
        visit(driver, "status", "/status")
        visit(driver, "workspaces", "/workspaces")
        visit(driver, "workspace-new", "/workspaces/new")
        visit(driver, "workspace", "/workspaces/%d" % workspace, "/workspaces/{id}")
        visit(driver, "users", "/users")
        driver.get(BASE + "/users")
        me = re.search(r'href="/users/(\d+)">%s<' % re.escape(EMAIL), driver.page_source)
        other = re.search(r'href="/users/(\d+)">walk-member-%s@' % tag, driver.page_source)
        visit(driver, "user-new", "/users/new")
        visit(driver, "user", "/users/%s" % (me or other).group(1), "/users/{id}")
        visit(driver, "tokens", "/tokens")
        visit(driver, "audit", "/audit")
        visit(driver, "account", "/account")
        visit(driver, "settings", "/settings")
        visit(driver, "provider-apps", "/settings/providers")
        visit(driver, "retention", "/settings/retention")
        visit(driver, "export", "/export")
        visit(driver, "not-found", "/campaigns/999999999", "/campaigns/{id}", error_page=True)

        step = "pages a form answers"
        emulate(driver, 1366, 900)

        def preview_split():
            driver.get(BASE + "/spend/new")
            loaded(driver)
            Select(driver.find_element(By.NAME, "traffic_source_id")).select_by_value(str(source))
            driver.execute_script("arguments[0].value = arguments[1]", driver.find_element(By.NAME, "from"), "2026-01-01")
            driver.execute_script("arguments[0].value = arguments[1]", driver.find_element(By.NAME, "to"), "2026-01-07")
            driver.find_element(By.NAME, "amount").send_keys("70")
            driver.find_element(By.NAME, "currency").send_keys("USD")
            submit(driver, wait, "button[name=action][value=preview]")
        from_the_start(preview_split)
        check_both_widths(driver, "spend-split")
        with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
            f.write("date,traffic_source,campaign,amount,currency\n%s,%d,%d,3.25,USD\n%s,%d,,1.00,USD\n" % (today, source, campaign, today, source))
            upload = f.name
        emulate(driver, 1366, 900)

        def upload_file():
            driver.get(BASE + "/spend/upload")
            loaded(driver)
            driver.find_element(By.NAME, "file").send_keys(upload)
            submit(driver, wait, "main form.card button[type=submit]")
        from_the_start(upload_file)
        os.unlink(upload)
        check_both_widths(driver, "spend-preview")
        emulate(driver, 1366, 900)
        driver.get(BASE + "/users")
        reset = driver.find_elements(By.CSS_SELECTOR, "form[action='/users/%s/reset-password'] button" % other.group(1)) if other else []
        if reset:
            driver.execute_script("window.confirm = () => true")
            old = driver.find_element(By.TAG_NAME, "html")
            reset[0].click()
            wait.until(EC.staleness_of(old))
            loaded(driver)
            check_both_widths(driver, "user-password-reset")
        phone_menu_without_script(driver)

        if ROUTES is not None:
            step = "every GET page route walked"
            missing = sorted({r for r in ROUTES if not NOT_PAGES.search(r)} - walked)
            results.append(("routes", 0, not missing))
            print("%s every GET page route walked%s" % ("ok  " if not missing else "FAIL", ": missing " + ", ".join(missing) if missing else ""))
    except Exception as error:
        shot = os.path.join(ARTIFACTS, "pages-walk-failure.png")
        driver.save_screenshot(shot)
        print("browser test pages-walk failed at step %r: %s: %s (screenshot: %s, url: %s)" % (
            step, type(error).__name__, str(error).splitlines()[0] if str(error) else "", shot, driver.current_url))
        print("browser test pages-walk failed at step %r: %s" % (step, type(error).__name__), file=sys.stderr)
        driver.quit()
        sys.exit(1)
    driver.quit()
    failed = [r for r in results if not r[2]]
    pages = len({n for n, w, _ in results if w and n != "phone-menu"})
    print("pages walk: %d checks of %d pages at %s px, %d failed, %.0f s (screenshots in %s)" % (
        len(results), pages, " and ".join(str(w) for w, _ in WIDTHS), len(failed), time.time() - started, SHOTS))
    if failed:
        print("pages walk failed: " + ", ".join("%s@%d" % (n, w) for n, w, _ in failed), file=sys.stderr)
        sys.exit(1)


main()
