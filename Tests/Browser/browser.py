"""Shared set-up for the browser tests: Debian's headless Chromium through chromedriver, and a
runner that saves a screenshot when a step fails."""
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

BASE = os.environ["WAYMARK_BROWSER_BASE"]
EMAIL = os.environ["WAYMARK_BROWSER_EMAIL"]
PASSWORD = os.environ["WAYMARK_BROWSER_PASSWORD"]
ARTIFACTS = os.environ.get("WAYMARK_BROWSER_ARTIFACTS", "var/test-artifacts")


def run(name, steps):
    """Runs steps(driver, wait, step) where step(text) names the current step; exits 1 on failure."""
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--ignore-certificate-errors", "--disable-gpu",
                "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    wait = WebDriverWait(driver, 15)
    current = ["start"]
    os.makedirs(ARTIFACTS, exist_ok=True)
    try:
        steps(driver, wait, lambda text: current.__setitem__(0, text))
        driver.save_screenshot(os.path.join(ARTIFACTS, name + ".png"))
    except Exception as error:
        shot = os.path.join(ARTIFACTS, name + "-failure.png")
        driver.save_screenshot(shot)
        print("browser test %s failed at step %r: %r (screenshot: %s, url: %s)" % (name, current[0], error, shot, driver.current_url), file=sys.stderr)
        sys.exit(1)
    finally:
        driver.quit()


def sign_in(driver, wait, path="/"):
    driver.get(BASE + path)
    wait.until(EC.presence_of_element_located((By.NAME, "email")))
    driver.find_element(By.NAME, "email").send_keys(EMAIL)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
