#!/usr/bin/python3
"""A real browser (Debian's headless Chromium over WebDriver) signs in, creates a workspace,
sees it in the list and logs out. Run by BrowserIntegrationTests with:
  WAYMARK_BROWSER_BASE, WAYMARK_BROWSER_EMAIL, WAYMARK_BROWSER_PASSWORD, WAYMARK_BROWSER_ARTIFACTS
Exits non-zero on failure, after saving a screenshot to the artifacts folder."""
import os
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

base = os.environ["WAYMARK_BROWSER_BASE"]
email = os.environ["WAYMARK_BROWSER_EMAIL"]
password = os.environ["WAYMARK_BROWSER_PASSWORD"]
artifacts = os.environ.get("WAYMARK_BROWSER_ARTIFACTS", "var/test-artifacts")
name = "Browser workspace %d" % int(time.time() * 1000)

options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for arg in ("--headless=new", "--no-sandbox", "--ignore-certificate-errors", "--disable-gpu",
            "--disable-dev-shm-usage", "--window-size=1280,900"):
    options.add_argument(arg)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
wait = WebDriverWait(driver, 15)
step = "start"
try:
    step = "open the login page"
    driver.get(base + "/workspaces")
    wait.until(EC.presence_of_element_located((By.NAME, "email")))
    assert "/login" in driver.current_url, driver.current_url

    step = "sign in"
    driver.find_element(By.NAME, "email").send_keys(email)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait.until(EC.url_contains("/workspaces"))
    assert email in driver.page_source

    step = "create a workspace"
    driver.find_element(By.LINK_TEXT, "New workspace").click()
    wait.until(EC.presence_of_element_located((By.NAME, "name"))).send_keys(name)
    tz = driver.find_element(By.NAME, "timezone")
    tz.clear()
    tz.send_keys("Europe/Berlin")
    driver.find_element(By.CSS_SELECTOR, "select[name=currency] option[value=EUR]").click()
    driver.find_element(By.CSS_SELECTOR, "main form.card button[type=submit]").click()

    step = "see it in the list"
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "p.flash")))
    assert driver.current_url.endswith("/workspaces"), driver.current_url
    row = driver.find_element(By.XPATH, "//table//tr[td/a[text()='%s']]" % name)
    assert "EUR" in row.text and "Europe/Berlin" in row.text, row.text
    os.makedirs(artifacts, exist_ok=True)
    driver.save_screenshot(os.path.join(artifacts, "workspaces.png"))

    step = "log out"
    driver.find_element(By.XPATH, "//button[text()='Log out']").click()
    wait.until(EC.url_contains("/login"))
    driver.get(base + "/workspaces")
    wait.until(EC.url_contains("/login"))
    print("browser test passed: signed in, created %r, saw it listed, logged out" % name)
except Exception as error:
    os.makedirs(artifacts, exist_ok=True)
    shot = os.path.join(artifacts, "browser-failure.png")
    driver.save_screenshot(shot)
    print("browser test failed at step %r: %r (screenshot: %s, url: %s)" % (step, error, shot, driver.current_url), file=sys.stderr)
    sys.exit(1)
finally:
    driver.quit()
