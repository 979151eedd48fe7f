"""The payments page in a real browser (Debian's headless Chromium, driven by Selenium), served
by `kazbill api` under gunicorn on a CouchDB-compatible server of its own, with a local Braintree
gateway: log in, see the balance, save a card, top up, see the new balance. Screenshots are kept
in test-artifacts/ (English and Russian)."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from bookkeeper.adapters.couchdb_store import CouchDbStore
from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.services.payments.gateway_settings import save_gateway_settings
from testkit.fixtures.api_world import ApiWorld
from testkit.support.api_server import couch, serving_api
from testkit.support.braintree_fake import BraintreeFake
from tests.integration.conftest import BRAINTREE_KEYS

pytestmark = pytest.mark.integration
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1200,1800"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def text_of(driver, element_id: str) -> str:
    return WebDriverWait(driver, 30).until(expected_conditions.presence_of_element_located((By.ID, element_id))).text


def submit(driver, form_selector: str) -> None:
    """Click the form's button and wait until the browser has left the page it was on: the page
    before the POST has a `done` message too, and reading it while the new page loads is a race
    (the element goes stale under the reader)."""
    page_before = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, f"{form_selector} button").click()
    WebDriverWait(driver, 30).until(lambda _: _gone(page_before))


def _gone(element) -> bool:
    """Selenium's staleness_of expects a StaleElementReferenceException; Chromium, asked in the
    middle of the navigation, sometimes answers "Node with given id does not belong to the
    document" instead. Either way the page it belonged to is gone."""
    try:
        element.is_enabled()
        return False
    except WebDriverException:
        return True


def test_a_customer_logs_in_saves_a_card_tops_up_and_sees_the_new_balance(own_couch_url, tmp_path, browser):
    store = CouchDbStore(own_couch_url)
    world = ApiWorld(store).build()
    reseller, customer = world.ids["other_reseller"], world.ids["other_customer"]
    onbill = store.get(account_db(reseller), "onbill")
    store.put(account_db(reseller), {**onbill, "currency": "USD", "timezone": "America/New_York"})
    save_gateway_settings(
        store,
        reseller,
        "braintree_config",
        {"enabled": True, "environment": "sandbox", **BRAINTREE_KEYS, "max_amount": "500.00"},
        0,
    )
    with (
        BraintreeFake(**BRAINTREE_KEYS) as fake,
        serving_api(couch(own_couch_url), tmp_path / "gunicorn.log", {"KAZBILL_BRAINTREE_URL": fake.url}) as base,
    ):
        browser.get(f"{base}/portal")
        assert browser.current_url.endswith("/portal/login")
        browser.find_element(By.NAME, "account_name").send_keys("Other Customer")
        browser.find_element(By.NAME, "username").send_keys("admin-other_customer")
        browser.find_element(By.NAME, "password").send_keys("secret")
        submit(browser, "#login")
        assert text_of(browser, "balance") == "$0.00"
        assert f"/portal/accounts/{customer}" in browser.current_url

        # Braintree's Drop-in cannot load here (no network): put the nonce it would produce.
        browser.execute_script("document.getElementById('nonce').value = 'fake-valid-visa-nonce'")
        submit(browser, "#add-card")
        assert "saved" in text_of(browser, "done")
        assert "Visa •••• 1111" in browser.find_element(By.CLASS_NAME, "saved-card").text

        browser.find_element(By.CSS_SELECTOR, "#topup input[name=amount]").send_keys("25")
        submit(browser, "#topup")
        assert "charged" in text_of(browser, "done")
        assert text_of(browser, "balance") == "$25.00"
        assert "Card top-up" in text_of(browser, "transactions")
        assert [sale["amount"] for sale in fake.sales] == ["25.00"]
        ARTIFACTS.mkdir(exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "payments-page-en.png"))

        browser.refresh()  # the page after the redirect: reloading it posts nothing again
        browser.get(browser.current_url.split("?")[0] + "?lang=ru")
        assert text_of(browser, "balance").replace("\xa0", " ") == "25,00 $"
        browser.save_screenshot(str(ARTIFACTS / "payments-page-ru.png"))
    assert len(fake.sales) == 1
    store.close()
