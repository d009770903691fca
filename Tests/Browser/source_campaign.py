#!/usr/bin/python3
"""Creates a TikTok source from its template and a campaign on it, and reads the campaign URL
off the Tracking tab, then sends a test postback from there and lands on the click's journey
(run by BrowserIntegrationTests; prints the URL on its last line)."""
import time

from browser import run, sign_in
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

name = "TikTok browser %d" % int(time.time() * 1000)


def steps(driver, wait, step):
    step("sign in")
    sign_in(driver, wait, "/traffic-sources/new")
    wait.until(EC.presence_of_element_located((By.NAME, "q"))).send_keys("tiktok")
    driver.find_element(By.XPATH, "//button[text()='Search']").click()
    # The unfiltered list has the same link: wait for the searched page, not the old one.
    wait.until(EC.url_contains("q=tiktok"))

    step("pick the TikTok template")
    wait.until(EC.element_to_be_clickable((By.LINK_TEXT, "TikTok Ads"))).click()
    field = wait.until(EC.presence_of_element_located((By.NAME, "name")))
    field.clear()
    field.send_keys(name)
    driver.find_element(By.CSS_SELECTOR, "main form.card button[type=submit]").click()

    step("new campaign on the source")
    wait.until(EC.element_to_be_clickable((By.LINK_TEXT, "New campaign on this source"))).click()
    wait.until(EC.presence_of_element_located((By.NAME, "name"))).send_keys("Browser campaign")
    driver.find_element(By.NAME, "destination_url").send_keys("https://offer.example/?sub={clickid}")
    driver.find_element(By.CSS_SELECTOR, "main form.card button[type=submit]").click()

    step("read the Tracking tab")
    wait.until(EC.url_contains("/tracking"))
    url = driver.find_element(By.ID, "campaign-url").get_attribute("value")
    assert "ttclid=__CALLBACK_PARAM__" in url and "campaign_id=__CAMPAIGN_ID__" in url, url

    step("send a test postback from the Tracking tab")
    payout = driver.find_element(By.NAME, "payout")
    payout.clear()
    payout.send_keys("2.50")
    driver.find_element(By.XPATH, "//button[text()='Send test postback']").click()
    wait.until(EC.url_contains("/clicks/"))
    text = driver.find_element(By.TAG_NAME, "main").text
    assert "HTTP 200" in text and "recorded" in text and "2.50" in text, text[:2000]
    print(url)


run("source-campaign", steps)
