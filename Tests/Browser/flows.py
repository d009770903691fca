#!/usr/bin/python3
"""Creates two offers and two landers through their forms, builds a two-path flow in the flow
editor (its no-JavaScript buttons), puts a campaign on it from the General tab, reads the lander
click URLs off the Tracking tab, sends a click through a lander, and opens a path's split-test view (run by
BrowserIntegrationTests; prints the flow's id on its last line)."""
import time

from browser import BASE, run, sign_in
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

tag = "%d" % int(time.time() * 1000)


def submit_form(driver, fields, path):
    driver.get(BASE + path)
    for name, value in fields.items():
        element = driver.find_element(By.NAME, name)
        if element.tag_name == "select":
            Select(element).select_by_value(value)
        else:
            element.clear()
            element.send_keys(value)
    driver.find_element(By.CSS_SELECTOR, "main form.card button[type=submit]").click()


def created_id(driver, wait, prefix):
    wait.until(lambda d: d.current_url.split("?")[0].rstrip("/").split("/")[-1].isdigit() and prefix in d.current_url)
    return driver.current_url.split("?")[0].rstrip("/").split("/")[-1]


def choose(driver, name, value):
    Select(driver.find_element(By.NAME, name)).select_by_value(value)


def press(driver, wait, value):
    """Presses an editor button and waits for the form to come back."""
    old = driver.find_element(By.CSS_SELECTOR, "form.flow-editor")
    driver.find_element(By.CSS_SELECTOR, "button[name=action][value='%s']" % value).click()
    wait.until(EC.staleness_of(old))


def steps(driver, wait, step):
    step("sign in")
    sign_in(driver, wait, "/offers")
    wait.until(EC.presence_of_element_located((By.LINK_TEXT, "New offer")))

    step("two offers and two landers through their forms")
    offers, landers = [], []
    for letter in "AB":
        # Pages nginx serves, so the browser lands somewhere real.
        submit_form(driver, {"name": "Offer %s %s" % (letter, tag), "url": BASE + "/static/waymark.css?offer=%s&s={clickid}" % letter,
                             "payout": "3.00"}, "/offers/new")
        offers.append(created_id(driver, wait, "/offers/"))
        submit_form(driver, {"name": "Lander %s %s" % (letter, tag), "url": BASE + "/static/waymark.js?lander=%s&c={clickid}" % letter,
                             "offers_count": "2"}, "/landers/new")
        landers.append(created_id(driver, wait, "/landers/"))

    step("the flow editor: the default path's offers")
    driver.get(BASE + "/flows/new")
    wait.until(EC.presence_of_element_located((By.NAME, "paths[0][name]")))
    driver.find_element(By.NAME, "name").send_keys("Browser flow %s" % tag)
    choose(driver, "paths[0][landers][0][id]", landers[0])
    choose(driver, "paths[0][landers][1][id]", landers[1])
    choose(driver, "paths[0][offers][0][id]", offers[0])
    choose(driver, "paths[0][offers][1][id]", offers[1])

    step("add a path before the default one, with a rule")
    press(driver, wait, "add_path")
    assert driver.find_element(By.NAME, "paths[1][name]").get_attribute("value") == "Default"
    assert Select(driver.find_element(By.NAME, "paths[1][offers][1][id]")).first_selected_option.get_attribute("value") == offers[1]
    name = driver.find_element(By.NAME, "paths[0][name]")
    name.clear()
    name.send_keys("Zone 7")
    choose(driver, "paths[0][rules][0][field]", "param:")
    driver.find_element(By.NAME, "paths[0][rules][0][param]").send_keys("zone")
    driver.find_element(By.NAME, "paths[0][rules][0][values]").send_keys("7")
    choose(driver, "paths[0][landers][0][id]", landers[1])
    choose(driver, "paths[0][offers][0][id]", offers[1])
    press(driver, wait, "remove_lander:0:1")
    assert len(driver.find_elements(By.CSS_SELECTOR, "fieldset[data-path='0'] table.landers tbody tr")) == 1

    step("the script adds an offer row in place")
    rows = "fieldset[data-path='1'] table.offers tbody tr"
    count = len(driver.find_elements(By.CSS_SELECTOR, rows))
    page = driver.find_element(By.CSS_SELECTOR, "form.flow-editor")
    driver.find_element(By.CSS_SELECTOR, "button[data-add-row=offers][value='add_offer:1']").click()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, rows)) == count + 1)
    assert driver.find_element(By.CSS_SELECTOR, "form.flow-editor") == page  # no round trip
    added = driver.find_elements(By.CSS_SELECTOR, rows)[-1].find_element(By.TAG_NAME, "select")
    assert added.get_attribute("name") == "paths[1][offers][%d][id]" % count, added.get_attribute("name")

    step("save the flow")
    driver.find_element(By.CSS_SELECTOR, "button[name=action][value=save]").click()
    wait.until(EC.url_matches(r"/flows/\d+$"))
    flow = driver.current_url.rstrip("/").split("/")[-1]
    assert "Flow Browser flow %s created" % tag in driver.find_element(By.CSS_SELECTOR, ".flash").text

    step("a source and a campaign on the flow")
    submit_form(driver, {"name": "Flow source %s" % tag}, "/traffic-sources/new?template=custom")
    wait.until(EC.element_to_be_clickable((By.LINK_TEXT, "New campaign on this source"))).click()
    wait.until(EC.presence_of_element_located((By.NAME, "name"))).send_keys("Flow campaign %s" % tag)
    driver.find_element(By.CSS_SELECTOR, "input[name=target][value=flow]").click()
    choose(driver, "flow_id", flow)
    driver.find_element(By.CSS_SELECTOR, "main form.card button[type=submit]").click()

    step("the Tracking tab shows the lander click URLs")
    wait.until(EC.url_contains("/tracking"))
    urls = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#lander-click-urls li code")]
    origin = driver.find_element(By.ID, "campaign-url").get_attribute("value").split("/c/")[0]
    assert urls == [origin + "/click", origin + "/click/1", origin + "/click/2"], urls

    step("a click through the campaign URL to the rule path's lander, and on to its offer")
    campaign_url = driver.find_element(By.ID, "campaign-url").get_attribute("value")
    driver.get(campaign_url + ("&" if "?" in campaign_url else "?") + "zone=7")
    wait.until(EC.url_contains("lander=B"))
    driver.get(origin + "/click")
    wait.until(EC.url_contains("offer=B"))

    step("the split-test view of the rule path")
    driver.get(BASE + "/flows/" + flow)
    wait.until(EC.element_to_be_clickable((By.PARTIAL_LINK_TEXT, "Split test: Zone 7"))).click()
    wait.until(EC.url_contains("/split-test?path=0"))
    table = wait.until(EC.presence_of_element_located((By.ID, "split-landers"))).text
    assert "Lander B %s" % tag in table and "Lander A %s" % tag not in table, table
    assert "Offer B %s" % tag in driver.find_element(By.ID, "split-offers").text
    print(flow)


run("flows", steps)
