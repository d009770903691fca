#!/usr/bin/python3
"""Opens the reports dashboard, drills from a source into a campaign and its days, and exports
the CSV of what is shown (run by BrowserIntegrationTests; prints the CSV's first line)."""
from browser import run, sign_in
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC


def steps(driver, wait, step):
    step("sign in and open the dashboard")
    sign_in(driver, wait, "/reports?preset=last30")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "table.report")))
    assert "Total" in driver.find_element(By.CSS_SELECTOR, "table.report tfoot").text

    step("drill into a source")
    links = [a for a in driver.find_elements(By.CSS_SELECTOR, "table.report tbody td a") if a.text.startswith("TikTok browser")]
    links[-1].click()
    wait.until(EC.url_contains("traffic_source_id="))

    step("drill into a campaign")
    wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "table.report tbody td a"))).click()
    wait.until(EC.url_contains("campaign_id="))
    crumbs = driver.find_element(By.CSS_SELECTOR, "nav.crumbs").text
    assert crumbs.count("›") >= 3, crumbs

    step("export CSV")
    href = driver.find_element(By.ID, "csv-export").get_attribute("href")
    text = driver.execute_async_script(
        "const done = arguments[1]; fetch(arguments[0], {credentials: 'same-origin'}).then(r => r.text()).then(done);", href)
    assert text.startswith("day,clicks,") and "total," in text, text[:300]
    print(text.splitlines()[0])


run("reports", steps)
