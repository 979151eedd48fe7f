"""A hostile week on CouchDB (issue 20): the real `kazbill serve` follows the changes feed of a
simulated cluster while, on the second day, a customer's account database receives a device
nested 1,200 levels deep; on the third, a hundred large unsigned YooMoney notifications flood the
payment hooks of `kazbill api` on the same store; on the fourth, a reseller's rate-deck import is
SIGKILLed half way while the day's calls are billed. Billing goes on: the audit, recomputing every
charge and every call from the simulator's true history, finds no difference; the poison document
is recorded once in kazbill_failures and nothing else awaits a person; the flood keeps at most the
per-address cap of refusals in kazbill_hooks and credits nothing, and a genuine payment after it
is credited once; calls are rated from the old deck until the next import replaces it whole. The
counts are printed."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import signal
import threading
import time
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest

from actors.system import connect
from bookkeeper.adapters.clock import FileClock
from bookkeeper.adapters.couchdb_store import CouchDbStore
from bookkeeper.config import Settings
from bookkeeper.domain.calls import call_entry_id
from bookkeeper.domain.gateways import yandex_money
from bookkeeper.domain.kazoo_names import account_db, ratedeck_db
from bookkeeper.domain.periods import local_day_of_gregorian
from bookkeeper.domain.rate_deck_versions import version_db
from bookkeeper.ports import ViewQuery
from bookkeeper.services.billing.context import current_quantities
from bookkeeper.services.payments.gateway_settings import save_gateway_settings
from bookkeeper.services.payments.hook_attempts import (
    HOOKS_DB,
    MAX_UNVOUCHED_RAW_KEPT,
    UNVOUCHED_PER_SOURCE_PER_MINUTE,
    attempt_id,
)
from bookkeeper.services.rating.call_rating import deck_of
from bookkeeper.services.rating.rate_decks import import_rate_deck, read_pointer
from entrypoints.simulation import calls as simulated_calls
from entrypoints.simulation.cluster import Scale, utc
from entrypoints.simulation.flavours import gregorian
from entrypoints.simulation.run import TRAFFIC_HOUR_UTC, SimulationRun
from testkit.support.api_server import couch, serving_api
from testkit.support.kazbill_service import KazbillService
from tests.integration.test_hooks_on_gunicorn import post
from tests.integration.test_poison_entrances import device_text, nested, put_text
from tests.reliability.support import audit_run, failures, ledger_entries

# A week takes minutes on 2 busy cores: the timeout only guards against a hang.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(2400)]
FIRST_DAY, DAYS = date(2026, 11, 27), 7  # 27 Nov - 3 Dec: a month end mid-week
POISON_DAY, FLOOD_DAY, DECK_KILL_DAY = 1, 2, 3  # the second, third and fourth days
FLOOD, PADDING = 100, {f"pad{n}": "x" * 1_200 for n in range(50)}  # about 60 KB each
SECRET = "hostile-week-wallet-secret"
GENUINE = {
    "notification_type": "card-incoming",
    "operation_id": "904035776918098777",
    "amount": "980.00",
    "withdraw_amount": "1000.00",
    "currency": "643",
    "datetime": "2026-11-29T09:00:00Z",
    "sender": "",
    "codepro": "false",
    "unaccepted": "false",
}
DECK_HEADER = "prefix,rate_cost,rate_increment,rate_minimum,direction"
OLD_MOSCOW_UNITS = 9_000  # the simulator's deck: 0.90 a minute to Moscow
OLD_UNITS = {"74": OLD_MOSCOW_UNITS, "79": 24_000}  # 2.40 to mobiles; the new deck: 0.01, none
RUSSIAN = ("7495", "79")


def replacement_deck(rows: int) -> list[str]:
    """Moscow at another price, and many prefixes the simulator's deck does not have."""
    return [DECK_HEADER, "7495,0.01,60,60,outbound"] + [f"{1000000 + n},0.50,60,60,outbound" for n in range(rows - 1)]


def _import_then_hang(couch_url: str, reseller: str, told) -> None:
    """The child: writes two batches of the replacement deck, says so, and waits to be killed."""
    store, batches = CouchDbStore(couch_url), []

    def progress(rows: int) -> None:
        batches.append(rows)
        if len(batches) == 2:
            told.send("half way")
            threading.Event().wait()  # never returns: the parent kills this process here

    import_rate_deck(store, reseller, simulated_calls.DECK, replacement_deck(10_000), progress=progress)


def hook_records(store) -> list[dict]:
    rows = store.query_view(HOOKS_DB, "kazbill_hooks", "by_outcome", ViewQuery(reduce=False, include_docs=True)).rows
    return [row.doc for row in rows]


def yoomoney_credits(store, account_id: str) -> list[dict]:
    """The account's ledger entries posted by the YooMoney hook, whichever month holds them."""
    prefix = account_db(account_id) + "-"
    return [
        row.doc
        for db in store.list_databases()
        if db.startswith(prefix)
        for row in store.all_docs(db, ViewQuery(include_docs=True)).rows
        if row.doc and row.doc.get("pvt_type") == "ledger" and "YooMoney" in str(row.doc.get("description"))
    ]


def signed(fields: dict[str, str]) -> dict[str, str]:
    return {**fields, "sha1_hash": yandex_money.wallet_signature(fields, SECRET)}


def test_a_week_with_a_poison_document_a_hook_flood_and_a_killed_deck_import_bills_on_and_audits_clean(
    own_couch_url, tmp_path, capsys
):
    settings = dataclasses.replace(Settings(), store_url=own_couch_url)
    clock_file = str(tmp_path / "clock")
    run = SimulationRun(
        settings,
        clock_file,
        Scale(
            resellers=2,
            accounts=6,
            change_percent=40,
            signup_percent=20,
            seed=20261127,
            call_percent=60,
            close_percent=0,
        ),
        FIRST_DAY,
    )
    run.seed()
    store, cluster = run.ports.store, run.cluster
    reseller, timezone = cluster.resellers[0]  # roubles, Moscow: YooMoney's currency
    ours = [c.account_id for c in cluster.customers.values() if c.reseller_id == reseller]
    poisoned, payer = ours[0], ours[1]
    save_gateway_settings(
        store,
        reseller,
        "yandex_money_config",
        {
            "enabled": True,
            "wallet": "41001000040",
            "notification_secret": SECRET,
            "min_amount": "10.00",
            "max_amount": "15000.00",
        },
        0,
    )
    deck_db = ratedeck_db(reseller, simulated_calls.DECK)
    service = KazbillService(tmp_path, {"KAZBILL_STORE_URL": own_couch_url, "KAZBILL_BRIDGES": "couchdb"}, clock_file)
    seen: dict[str, object] = {}
    try:
        service.start().wait_ready()
        client = connect(service.admin_port, timeout_s=300)
        run.wait_followed()
        for offset in range(DAYS):
            run.morning(offset, client)
            if offset == DECK_KILL_DAY:  # the import is half written while the day's calls are billed
                before = read_pointer(store, deck_db)
                context = multiprocessing.get_context("fork")
                receive, send = context.Pipe(duplex=False)
                importer = context.Process(target=_import_then_hang, args=(own_couch_url, reseller, send))
                importer.start()
                try:
                    assert receive.poll(300) and receive.recv() == "half way"  # a hang guard, not a timing
                    run.afternoon(offset)
                    run.wait_followed()
                finally:
                    os.kill(importer.pid, signal.SIGKILL)
                    importer.join()
                killed = read_pointer(store, deck_db)
                assert killed.active_version == before.active_version
                assert killed.importing not in (None, before.active_version)
                assert store.all_docs(version_db(deck_db, killed.importing), ViewQuery(limit=1)).rows
                deck = deck_of(store, reseller, simulated_calls.DECK)
                assert len(deck) == len(simulated_calls.RATES)  # the old deck, whole, and none of the new
                assert deck.find("74951234567", "outbound").cost_per_minute == OLD_MOSCOW_UNITS
                seen["killed version"] = killed.importing
            else:
                run.afternoon(offset)
            run.wait_followed()
            if offset == POISON_DAY:  # after the day's own changes are billed: a step of its own
                now = utc(FIRST_DAY + timedelta(days=offset), TRAFFIC_HOUR_UTC)
                put_text(
                    own_couch_url,
                    account_db(poisoned),
                    "device-deep",
                    device_text(poisoned, "device-deep", gregorian(now), provision=nested(1200)),
                )
                # The views count the device like any other (JavaScript reads it): so does the truth.
                cluster.history[poisoned].append(
                    (now.astimezone(ZoneInfo(timezone)).date(), current_quantities(store, poisoned))
                )
                run.wait_followed()
            if offset == FLOOD_DAY:
                seen.update(flood_the_hooks(store, tmp_path, own_couch_url, reseller, payer, clock_file))
                run.wait_followed()
            if offset == DECK_KILL_DAY + 1:  # calls billed after the kill, then the next import
                simulated_calls.install_deck(store, reseller)  # replaces it whole, at the same prices
                after = read_pointer(store, deck_db)
                assert after.versions == (after.active_version,) and after.importing is None
                assert not store.database_exists(version_db(deck_db, seen["killed version"]))
        run.morning(DAYS, client)
        assert service.stop() == 0, service.log()
    finally:
        service.cleanup()

    # Every call of the reseller's customers to Russia from the day of the kill on (while the import
    # was half written, after it was killed, after the next import): the old deck's price.
    late = [
        call
        for call in cluster.calls
        if call.account_id in ours
        and call.number.startswith(RUSSIAN)
        and call.ended_gregorian >= gregorian(utc(FIRST_DAY + timedelta(days=DECK_KILL_DAY), 0))
    ]
    rates = [charged_rate(store, call, timezone) for call in late]
    differences, unreadable = audit_run(run, FIRST_DAY, FIRST_DAY + timedelta(days=DAYS - 1))
    recorded = failures(store)
    with capsys.disabled():
        print(
            f"\nreliability (hostile week): {DAYS} simulated days on CouchDB, {len(cluster.customers)} customers "
            f"({cluster.counts.signups} signed up), {cluster.counts.writes} document writes, "
            f"{len(cluster.calls)} billable calls "
            f"({len(late)} of them to Russia from the day of the killed import on), "
            f"{ledger_entries(store)} ledger documents; a poison document, a flood of {FLOOD} unsigned "
            f"notifications ({seen['kept']} refusals kept in {HOOKS_DB}), a deck import SIGKILLed half way; "
            f"refusals awaiting a person: {len(recorded)}; differences found: {len(differences)}"
        )
    assert unreadable == [] and differences == [], "\n".join(map(repr, unreadable + differences))
    assert [(f["source"], f["reason_code"], f["account_id"], f["payload"]["id"]) for f in recorded] == [
        ("couchdb_feed", "unreadable_document", poisoned, "device-deep")
    ]
    assert late and rates == [OLD_UNITS[call.number[:2]] for call in late]
    assert sum(cluster.counts.changes.values()) > 0 and cluster.counts.signups > 0
    assert len(yoomoney_credits(store, payer)) == 1


def flood_the_hooks(store, tmp_path, couch_url: str, reseller: str, payer: str, clock_file: str) -> dict[str, object]:
    """The flood at `kazbill api`'s hooks (one worker: the per-address cap is kept per worker and per
    minute), then a genuine payment from the same address, delivered twice."""
    path = f"/hooks/yandex_money/{reseller}/notification"
    # On the simulated clock, as `kazbill serve --clock-file` runs its API: a payment dated in real
    # time would land days in the simulation's future (and the prepaid renewals wait for it).
    with serving_api(couch(couch_url), tmp_path / "api.log", workers=1, clock_file=clock_file) as base:
        if 60 - time.time() % 60 < 40:  # the flood within one minute of the hooks' clock, as a rule
            time.sleep(60 - time.time() % 60)
        minutes, statuses = set(), []
        for n in range(FLOOD):
            minutes.add(int(time.time() // 60))
            statuses.append(
                post(
                    base + path,
                    urlencode(
                        {**GENUINE, "label": payer, "operation_id": str(n), "sha1_hash": "0" * 40, **PADDING}
                    ).encode(),
                )
            )
            minutes.add(int(time.time() // 60))
        assert statuses == [400] * FLOOD
        kept = hook_records(store)
        assert [doc["outcome"] for doc in kept] == ["forged"] * len(kept)
        assert UNVOUCHED_PER_SOURCE_PER_MINUTE <= len(kept) <= UNVOUCHED_PER_SOURCE_PER_MINUTE * len(minutes)
        assert all(len(doc["raw"]) <= MAX_UNVOUCHED_RAW_KEPT and doc["fields"] == {} for doc in kept)
        assert yoomoney_credits(store, payer) == []
        genuine = urlencode(signed({**GENUINE, "label": payer})).encode()
        assert [post(base + path, genuine) for _ in range(2)] == [200, 200]
    record = store.get(HOOKS_DB, attempt_id("yandex_money", genuine))
    assert [d["outcome"] for d in record["deliveries"]] == ["credited", "duplicate"]
    (credit,) = yoomoney_credits(store, payer)
    assert credit["amount"] == 9_800_000 and credit["pvt_ledger_type"] == "credit"
    assert credit["pvt_created"] == gregorian(FileClock(clock_file).now())  # the simulation's day, not today
    return {"kept": len(kept)}


def charged_rate(store, call, timezone: str) -> Decimal:
    """The per-minute rate (in units) the customer's debit for `call` was charged at."""
    entry_id = call_entry_id(local_day_of_gregorian(call.ended_gregorian, timezone), call.call_id)
    prefix = account_db(call.account_id) + "-"
    for db in store.list_databases():
        if db.startswith(prefix) and any(row.id == entry_id for row in store.all_docs(db).rows):
            return Decimal(store.get(db, entry_id)["metadata"]["kazbill"]["rate"]["per_minute_units"])
    raise AssertionError(f"no debit {entry_id} for the call {call}")
