"""The documents as customers open them: in Debian's headless Chromium, from the payments page
served by `kazbill api` under gunicorn on a CouchDB-compatible server of its own. A Russian
customer's invoice (ru, VAT 20 % inside, per line) and a German customer's Factur-X invoice (de,
VAT 19 % on top, per rate) are listed on each one's page, opened from the PDF link in Chromium's
own PDF viewer, and kept as screenshots in test-artifacts/ beside the pages that list them; the
PDF the browser was served is read back (pdftotext) and checked row by row: title, parties, each
line with its numbers, the totals, the amount in words."""

from __future__ import annotations

import io
import re
import subprocess
import urllib.request
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import facturx
import pytest
from PIL import Image
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.adapters.couchdb_store import CouchDbStore
from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.services.billing.account_pass import BillingPorts, reconcile_account
from bookkeeper.services.documents.document_queue import process_due_documents
from bookkeeper.services.documents.period_documents import DocumentPorts, issue_period_documents
from documents.render import WeasyRenderer
from testkit.fixtures.api_world import md5
from testkit.fixtures.billing_world import World, gregorian
from testkit.fixtures.kazoo_docs import stamp
from testkit.fixtures.office import GENEROUS, OFFICE_PLAN, RESELLER_ONBILL
from testkit.support.api_server import couch, serving_api
from tests.integration import test_payments_page_browser
from tests.integration.test_payments_page_browser import submit, text_of

pytestmark = pytest.mark.integration
browser = test_payments_page_browser.browser  # the fixture: headless Chromium
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
MSK, BERLIN = ZoneInfo("Europe/Moscow"), ZoneInfo("Europe/Berlin")
VOLNA = {
    "id": "volna",
    "name": "ООО «Волна Телеком»",
    "main": True,
    "legal": {"address": "125009, Москва, ул. Тверская, д. 1", "inn": "7707083893", "kpp": "770701001"},
    "bank": {"bank": "ПАО Сбербанк", "account": "р/с 40702810938000000001"},
    "numbering": {"invoice": {"start": 100, "format": "В-{year}-{number}"}, "act": {"follows": "invoice"}},
}
NORDIC = {
    "id": "nordic",
    "name": "Nordic Voice GmbH",
    "main": True,
    "legal": {
        "address": "Friedrichstraße 1",
        "postcode": "10117",
        "city": "Berlin",
        "country": "DE",
        "vat_id": "DE123456789",
    },
    "bank": {"iban": "DE89 3704 0044 0532 0130 00"},
    "document_types": ["invoice"],
    "numbering": {"invoice": {"format": "NV-{year}-{number}"}},
}


def customer_with_a_login(world: World, name: str, created: datetime, onbill: dict, username: str) -> str:
    customer = world.customer(name, created=created, onbill=onbill, limits=GENEROUS, devices=2)
    world.store.put(
        account_db(customer),
        stamp(
            {
                "_id": "user" + "0" * 28,
                "username": username,
                "priv_level": "admin",
                "pvt_md5_auth": md5(f"{username}:secret"),
            },
            customer,
            "user",
        ),
    )
    return customer


def november_issued(store) -> tuple[str, str]:
    """Two resellers, each with a customer billed for November and its documents rendered."""
    ru = World(store).build(
        reseller_onbill={**RESELLER_ONBILL, "vat_disposition": "brutto", "vat_rate": 20, "carriers": [VOLNA]},
        plan=OFFICE_PLAN,
    )
    alpha = customer_with_a_login(
        ru,
        "Альфа Такси",
        datetime(2026, 1, 10, tzinfo=MSK),
        {
            "billing_day": 1,
            "language": "ru",
            "legal": {"name": "ООО «Альфа Такси»", "address": "Москва, ул. Ленина, д. 5", "inn": "7736207543"},
        },
        "anna",
    )
    eu = World(store).build(
        reseller_onbill={
            **RESELLER_ONBILL,
            "currency": "EUR",
            "timezone": "Europe/Berlin",
            "locale": "de_DE",
            "vat_disposition": "netto",
            "vat_rate": 19,
            "carriers": [NORDIC],
        },
        plan={**OFFICE_PLAN, "plan": {"devices": {"sip_device": {"name": "Desk phone", "rate": 21.5}}}},
    )
    kiel = customer_with_a_login(
        eu,
        "Kiel Logistics",
        datetime(2026, 1, 10, tzinfo=BERLIN),
        {
            "billing_day": 1,
            "language": "de",
            "legal": {
                "name": "Kiel Logistics GmbH",
                "address": "Hafenstraße 3",
                "postcode": "24103",
                "city": "Kiel",
                "country": "DE",
                "vat_id": "DE811128135",
            },
        },
        "jonas",
    )
    clock = SettableClock(datetime(2026, 11, 10, 12, 0, tzinfo=MSK))
    for world, customer in ((ru, alpha), (eu, kiel)):
        reconcile_account(BillingPorts(store, clock, world.design_docs), customer)  # November: 2 phones
    clock.set(datetime(2026, 12, 2, 9, 0, tzinfo=MSK))
    for world, customer in ((ru, alpha), (eu, kiel)):
        issue_period_documents(DocumentPorts(store, clock, world.design_docs), customer, datetime(2026, 11, 1).date())
    rendered = process_due_documents(
        store, WeasyRenderer(), None, sender="billing@example.com", now_gregorian=gregorian(clock.now())
    )
    assert (rendered.rendered, rendered.failed) == (3, 0)  # Volna's invoice and act, Nordic's invoice
    return alpha, kiel


def log_in(browser, base: str, account: str, username: str) -> None:
    browser.delete_all_cookies()
    browser.get(f"{base}/portal/login")
    browser.find_element(By.NAME, "account_name").send_keys(account)
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys("secret")
    submit(browser, "#login")
    text_of(browser, "balance")


def documents_listed(browser) -> list[list[str]]:
    rows = browser.find_elements(By.CSS_SELECTOR, "#documents tr")[1:]
    return [[cell.text.replace("\xa0", " ") for cell in row.find_elements(By.TAG_NAME, "td")] for row in rows]


def open_in_the_viewer(browser, link: str, screenshot: str) -> bytes:
    """The PDF in Chromium's own viewer, screenshot kept; the bytes it was served, for reading."""
    browser.get(link)
    WebDriverWait(browser, 30).until(lambda driver: driver.execute_script("return document.contentType"))
    assert browser.execute_script("return document.contentType") == "application/pdf"
    # The viewer paints the page after the document has loaded: wait until the screenshot shows it.
    shot = WebDriverWait(browser, 60, poll_frequency=0.5).until(lambda driver: _page_painted(driver))
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / screenshot).write_bytes(shot)
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in browser.get_cookies())
    with urllib.request.urlopen(urllib.request.Request(link, headers={"Cookie": cookies}), timeout=30) as answer:
        assert answer.headers["Content-Disposition"].startswith("inline")  # shown, not only downloaded
        return answer.read()


def _page_painted(driver) -> bytes | None:
    """The screenshot once a quarter of it is the white of a page (the viewer's frame is dark)."""
    png = driver.get_screenshot_as_png()
    image = Image.open(io.BytesIO(png)).convert("L")
    white = sum(count for level, count in enumerate(image.histogram()) if level > 245)
    return png if white > image.width * image.height // 4 else None


def layout_lines(pdf: bytes, tmp_path: Path, name: str) -> list[str]:
    path = tmp_path / name
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return [re.sub(r"\s+", " ", line.strip()) for line in text.splitlines() if line.strip()]


def in_order(lines: list[str], expected: list[str]) -> None:
    """Each expected text on a line of its own, in this order (other lines may come between)."""
    position = 0
    for wanted in expected:
        found = next((i for i in range(position, len(lines)) if re.search(wanted, lines[i])), None)
        assert found is not None, f"{wanted!r} after line {position} of:\n" + "\n".join(lines)
        position = found + 1


def test_customers_open_their_russian_and_german_invoices_in_the_browser(own_couch_url, tmp_path, browser):
    store = CouchDbStore(own_couch_url)
    alpha, kiel = november_issued(store)
    with serving_api(couch(own_couch_url), tmp_path / "gunicorn.log") as base:
        log_in(browser, base, "Альфа Такси", "anna")
        browser.get(f"{base}/portal/accounts/{alpha}?lang=ru")
        assert documents_listed(browser) == [
            ["Счёт", "В-2026-100", "01.11.2026", "1 000,00 ₽", "PDF"],
            ["Акт", "В-2026-100", "01.11.2026", "1 000,00 ₽", "PDF"],
        ]
        browser.save_screenshot(str(ARTIFACTS / "payments-page-documents-ru.png"))
        link = browser.find_element(By.CSS_SELECTOR, "#documents tr:nth-child(2) a").get_attribute("href")
        russian = layout_lines(open_in_the_viewer(browser, link, "invoice-ru-chromium.png"), tmp_path, "ru.pdf")
        in_order(
            russian,
            [
                r"ИСПОЛНИТЕЛЬ\s+ЗАКАЗЧИК",
                r"ООО «Волна Телеком»\s+ООО «Альфа Такси»",
                r"ИНН 7707083893",
                r"Счёт № В-2026-100 от 30\.11\.2026",
                r"Расчётный период: 01\.11\.2026 – 30\.11\.2026",
                # "Сумма без НДС" wraps in its column: its "НДС" is read on the next line
                r"# Наименование\s+Кол-во\s+Цена\s+Сумма без\s+НДС\s+Всего, RUB",
                r"^1 Desk phone\s+2\s+500,00\s+833,33\s+166,67\s+1 000,00$",
                r"Итого без НДС\s+833,33",
                r"Итого НДС \(20%, НДС включён\)\s+166,67",
                r"Всего к оплате, RUB\s+1 000,00",
                r"Сумма прописью: Одна тысяча рублей 00 копеек",
            ],
        )

        log_in(browser, base, "Kiel Logistics", "jonas")
        browser.get(f"{base}/portal/accounts/{kiel}?lang=de")
        assert documents_listed(browser) == [["Rechnung", "NV-2026-1", "01.11.2026", "51,17 €", "PDF"]]
        browser.save_screenshot(str(ARTIFACTS / "payments-page-documents-de.png"))
        link = browser.find_element(By.CSS_SELECTOR, "#documents tr:nth-child(2) a").get_attribute("href")
        pdf = open_in_the_viewer(browser, link, "invoice-de-chromium.png")
        german = layout_lines(pdf, tmp_path, "de.pdf")
        in_order(
            german,
            [
                r"LEISTUNGSERBRINGER\s+KUNDE",
                r"Nordic Voice GmbH\s+Kiel Logistics GmbH",
                r"Friedrichstraße 1\s+Hafenstraße 3",
                r"10117 Berlin\s+24103 Kiel",  # postcode and city on one line
                r"Deutschland\s+Deutschland",  # the country by its name, not its code
                r"USt-IdNr\. DE123456789\s+USt-IdNr\. DE811128135",
                r"Rechnung Nr\. NV-2026-1 vom 30\.11\.2026",
                r"Leistungszeitraum: 01\.11\.2026 – 30\.11\.2026",
                r"# Beschreibung\s+Menge\s+Einzelpreis\s+Netto, EUR",
                r"^1 Desk phone\s+2\s+21,50\s+43,00$",
                r"Summe netto\s+43,00",
                r"Summe USt\. \(19%, zzgl\. USt\.\)\s+8,17",
                r"Zu zahlen, EUR\s+51,17",
                r"Betrag in Worten: Einundfünfzig Euro und 17 Cent",
            ],
        )
        name, xml = facturx.get_facturx_xml_from_pdf(io.BytesIO(pdf))
        assert name == "factur-x.xml" and b"<ram:GrandTotalAmount>51.17</ram:GrandTotalAmount>" in xml
    store.close()
