#!/usr/bin/python3
"""Connects the Meta fake to a Facebook-template source in the browser, card to card:
Integrations tab → Connect → the fake's consent redirect → account selection → Active
(run by BrowserIntegrationTests; prints the source id on its last line)."""
import time

from browser import run, sign_in
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

name = "Meta browser %d" % int(time.time() * 1000)


def steps(driver, wait, step):
    step("sign in and make a Facebook source")
    sign_in(driver, wait, "/traffic-sources/new?template=facebook")
    field = wait.until(EC.presence_of_element_located((By.NAME, "name")))
    field.clear()
    field.send_keys(name)
    driver.find_element(By.CSS_SELECTOR, "main form.card button[type=submit]").click()

    step("open the Integrations tab")
    wait.until(EC.element_to_be_clickable((By.LINK_TEXT, "Integrations"))).click()
    card = wait.until(EC.presence_of_element_located((By.ID, "card-meta")))
    assert card.get_attribute("data-status") == "not_connected", card.text
    assert "Google Ads" in driver.find_element(By.TAG_NAME, "main").text

    step("connect: the fake consents and sends the browser back")
    card.find_element(By.LINK_TEXT, "Connect").click()
    wait.until(EC.presence_of_element_located((By.ID, "account-selection")))
    assert "Pick an account" in driver.find_element(By.ID, "integration-status").text

    step("pick the ad account")
    driver.find_element(By.CSS_SELECTOR, "input[name=account_id][value=act_123456789]").click()
    driver.find_element(By.XPATH, "//button[text()='Use this account']").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "integration-status"), "Active"))

    step("back on the cards: Meta is active")
    driver.find_element(By.LINK_TEXT, "Integrations").click()
    card = wait.until(EC.presence_of_element_located((By.ID, "card-meta")))
    assert card.get_attribute("data-status") == "active", card.text
    print(driver.current_url.split("/traffic-sources/")[1].split("/")[0])


run("integration-connect", steps)
