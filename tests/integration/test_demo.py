"""`kazbill demo`, the README's main job: a month of a two-level reseller tree billed by the real
actor system at accelerated time, then replayed from the first change without a second charge."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest
from facturx import get_facturx_xml_from_pdf
from falcon import testing

from bookkeeper.adapters.clock import SystemClock
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.design_docs import load_design_docs
from bookkeeper.domain.kazoo_names import account_modb
from bookkeeper.ports import ViewQuery
from crossbar_api.app import create_app
from crossbar_api.auth import AttemptLimiter, TokenSigner
from crossbar_api.deps import ApiDeps
from entrypoints.demo.world import demo_id

pytestmark = pytest.mark.integration
KAZBILL = os.path.join(os.path.dirname(sys.executable), "kazbill")


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_the_demo_bills_a_month_and_its_replay_charges_nothing_twice(tmp_path):
    store_path = tmp_path / "demo.sqlite3"
    done = subprocess.run(
        [KAZBILL, "demo", "--days", "30", "--store-path", str(store_path)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "KAZBILL_CONFIG": ""},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout.replace("\xa0", " ").replace("\u202f", " ")  # Babel spaces digits with no-break spaces
    assert "15 Nov  Lund Studio signs up with Nordic Voice" in out
    # 4 desk phones × 350 + softphone 150 + 3 users × 100 + numbers 250 + 900 + 2 trunks × 600 = 4,200.00;
    # 2 more phones on 3 Nov for 28 of 30 days: 653.33; 12,000.00 paid in.
    assert "Alpha Taxi          4 200,00 ₽      653,33 ₽        0,00 ₽   12 000,00 ₽    7 146,67 ₽" in out
    # Signed up on the 15th: users and number prorated for 16 of 30 days, phones daily from the 15th only.
    assert "Lund Studio              €0.00         €3.73         €6.40        €60.00        €49.87" in out
    assert "0 new ledger entries" in out
    # The month's documents, issued once the period is over, from the carriers and buyer details
    # the demo's resellers set; the PDFs written beside the store, in each customer's language.
    assert "Alpha Taxi      invoice  В-2026-100        4 853,33 ₽" in out
    assert "Kiel Logistics  invoice  NV-2026-2             €84.80 (Factur-X)" in out
    documents = store_path.parent / "demo-documents"
    alpha = pdf_text(documents / "Alpha-Taxi-act-В-2026-100.pdf")
    assert "Акт оказанных услуг № В-2026-100 от 30.11.2026" in alpha and "ИНН 7705123452" in alpha
    assert "ИНН 7701012342" in alpha and "КПП 770101001" in alpha  # the carrier's, labelled like the buyer's
    assert "Настольный телефон" in alpha and "Desk phone" not in alpha
    kiel = documents / "Kiel-Logistics-invoice-NV-2026-2.pdf"
    assert "Rechnung Nr. NV-2026-2 vom 30.11.2026" in pdf_text(kiel) and "Tischtelefon" in pdf_text(kiel)
    assert "USt-IdNr. DE811234567" in pdf_text(kiel)
    name, xml = get_facturx_xml_from_pdf(kiel.read_bytes())  # the EN 16931 XML rides inside the PDF/A-3
    assert name == "factur-x.xml" and b"<ram:GrandTotalAmount>84.80</ram:GrandTotalAmount>" in xml
    assert len(list(documents.glob("*.pdf"))) == 9  # RUB: invoice + act each; EUR: an invoice each

    # Logins the demo seeded, printed with how to try them, and accepted by the API on its store.
    assert "Logins: user 'admin', password 'demo-password', for every demo account's admin:" in out
    assert "resellers' console  http://127.0.0.1:8000/console  account 'Volna Telecom' or 'Nordic Voice'" in out
    assert f"KAZBILL_STORE_PATH={store_path} .venv/bin/kazbill api" in out
    store = EmbeddedStore(store_path)
    try:
        deps = ApiDeps(
            store=store,
            clock=SystemClock(),
            design_docs=load_design_docs(),
            tokens=TokenSigner(b"demo-test-secret-0123456789", 3600),
            attempts=AttemptLimiter(5, 300),
        )
        credentials = hashlib.md5(b"admin:demo-password", usedforsecurity=False).hexdigest()
        login = testing.TestClient(create_app(deps)).simulate_put(
            "/v2/user_auth", json={"data": {"credentials": credentials, "account_name": "Alpha Taxi"}}
        )
        assert login.status_code == 201 and login.json["data"]["account_id"] == demo_id("Alpha Taxi"), login.json
        ledger = store.all_docs(account_modb(demo_id("Lund Studio"), 2026, 11), ViewQuery(include_docs=True)).rows
        daily = sorted(
            row.id for row in ledger if row.doc.get("metadata", {}).get("kazbill", {}).get("reason") == "daily_fee"
        )
        assert daily[0].startswith("202611-kazbill-daily-20261115") and len(daily) == 16
    finally:
        store.close()
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True).stdout.split()
    assert leftovers == []


def test_a_replay_across_a_month_end_charges_nothing_twice(tmp_path):
    """26 November to 3 December: the resellers' midnights of 1 December (Moscow, Berlin) fall
    in November for Kazoo, whose months are UTC; a customer's November stays unpaid while its
    December is paid for. Replaying every change and day charges nothing again."""
    done = subprocess.run(
        [KAZBILL, "demo", "--start", "2026-11-26", "--days", "8", "--store-path", str(tmp_path / "edge.sqlite3")],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "KAZBILL_CONFIG": ""},
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "0 new ledger entries" in done.stdout
    # The crawl of 2 December issued November's documents; the demo's request for them at the end
    # finds the same ones, with the same numbers (none burned), and renders them.
    out = done.stdout
    assert out.count(".pdf") == 6 and "Gamma Shop: none (nothing billed in its period from 01 Nov 2026)" in out
    # Volna's crawl numbered three accounts' documents, in the order its shards got to them: Alpha
    # Taxi's, Beta Clinic's and Nordic Voice's (Volna invoices its sub-reseller for its admin's
    # login); the demo lists its five customers', so two of the three numbers are printed.
    printed = {word for word in out.split() if word.startswith("В-2026-")}
    assert len(printed) == 2 and printed <= {"В-2026-100", "В-2026-101", "В-2026-102"}, printed
    assert {"NV-2026-1", "NV-2026-2"} <= set(out.split()) and "NV-2026-3" not in out


def test_demo_serve_keeps_the_console_running_on_the_demo_store_for_its_resellers(tmp_path):
    """`kazbill demo --serve`: once the month is billed, the API, the console and the payments page
    answer on the demo's store, and each demo reseller's admin finds its own customers there."""
    import http.client
    import signal
    import time
    import urllib.parse

    from testkit.support.kazbill_service import free_port

    port = free_port()
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 - closed in the finally below
    server = subprocess.Popen(
        [KAZBILL, "demo", "--days", "3", "--store-path", str(tmp_path / "demo.sqlite3"), "--serve"]
        + ["--bind", f"127.0.0.1:{port}"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "KAZBILL_CONFIG": ""},
        start_new_session=True,
    )

    def ask(method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()

    try:
        deadline = time.monotonic() + 300
        while True:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            try:
                if ask("GET", "/console/login")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the demo's API never answered"
            time.sleep(0.5)
        for reseller, expected, absent in (
            ("Volna Telecom", ("Alpha Taxi", "Nordic Voice", "Kiel Logistics"), ()),
            ("Nordic Voice", ("Fjord Design", "Kiel Logistics"), ("Alpha Taxi",)),
        ):
            form = urllib.parse.urlencode({"account_name": reseller, "username": "admin", "password": "demo-password"})
            status, headers, _ = ask(
                "POST", "/console/login", form, {"Content-Type": "application/x-www-form-urlencoded"}
            )
            assert status == 303, reseller
            cookie = headers["set-cookie"].split(";")[0]
            assert headers["location"].endswith("/dashboard?lang=en")  # where a login lands
            status, _, page = ask(
                "GET", headers["location"].replace("/dashboard", "/customers"), headers={"Cookie": cookie}
            )
            assert status == 200 and all(name in page for name in expected), page[:3000]
            assert not any(name in page for name in absent)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(60)
        log.close()
