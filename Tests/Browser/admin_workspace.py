#!/usr/bin/python3
"""Signs in, creates a workspace, sees it in the list, logs out (run by BrowserIntegrationTests)."""
import time

from browser import BASE, EMAIL, run, sign_in
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

name = "Browser workspace %d" % int(time.time() * 1000)


def steps(driver, wait, step):
    step("sign in")
    sign_in(driver, wait, "/workspaces")
    wait.until(EC.url_contains("/workspaces"))
    assert EMAIL in driver.page_source

    step("create a workspace")
    driver.find_element(By.LINK_TEXT, "New workspace").click()
    wait.until(EC.presence_of_element_located((By.NAME, "name"))).send_keys(name)
    tz = driver.find_element(By.NAME, "timezone")
    tz.clear()
    tz.send_keys("Europe/Berlin")
    driver.find_element(By.CSS_SELECTOR, "select[name=currency] option[value=EUR]").click()
    driver.find_element(By.CSS_SELECTOR, "main form.card button[type=submit]").click()

    step("see it in the list")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "p.flash")))
    assert driver.current_url.endswith("/workspaces"), driver.current_url
    row = driver.find_element(By.XPATH, "//table//tr[td/a[text()='%s']]" % name)
    assert "EUR" in row.text and "Europe/Berlin" in row.text, row.text

    step("log out")
    driver.find_element(By.XPATH, "//button[text()='Log out']").click()
    wait.until(EC.url_contains("/login"))
    driver.get(BASE + "/workspaces")
    wait.until(EC.url_contains("/login"))
    print("browser test passed: signed in, created %r, saw it listed, logged out" % name)


run("workspaces", steps)
