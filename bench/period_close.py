"""Period-opening benchmark (the embedded store, or a CouchDB with --couch): N accounts of about
ten billable items each, first billed by the crawl of 29 November (timed apart), then all
opening a new period on 1 December, then the cost of one reconcile after a single document
change. Prints figures; asserts nothing about time.

    .venv/bin/python -m bench.period_close [--accounts 10000] [--reconciles 200] [--couch URL] [--passes N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from actors.scheduler import CHUNK_SIZE
from bench.record import RequestMeter, record, store_key, store_name
from bookkeeper.adapters.clock import SettableClock
from bookkeeper.adapters.couchdb_store import CouchDbStore
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.bootstrap import PASSES_ON_COUCHDB
from bookkeeper.design_docs import load_design_docs
from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, SERVICES_DB, account_db
from bookkeeper.ports import DocumentStore
from bookkeeper.services.billing.account_pass import BillingPorts, reconcile_account
from bookkeeper.services.operations.account_batches import bill_accounts
from bookkeeper.services.setup import store_setup
from testkit.fixtures.billing_world import gregorian
from testkit.fixtures.kazoo_docs import account_doc, new_account_id, stamp

MSK = ZoneInfo("Europe/Moscow")
PLAN = {
    "_id": "plan_pbx",
    "pvt_type": "service_plan",
    "name": "Hosted PBX",
    "plan": {
        "users": {"admin": {"rate": 100}, "user": {"rate": 150}},
        "devices": {"sip_device": {"rate": 500}, "softphone": {"rate": 200}, "cellphone": {"rate": 50}},
        "limits": {"twoway_trunks": {"rate": 300}, "inbound_trunks": {"rate": 150}, "outbound_trunks": {"rate": 150}},
        "phone_numbers": {"did": {"rate": 100}, "tollfree": {"rate": 900}},
    },
}


def account_contents(account_id: str) -> list[dict]:
    docs = [
        stamp(
            {
                "_id": "limits",
                "twoway_trunks": 2,
                "inbound_trunks": 1,
                "outbound_trunks": 1,
                "pvt_allow_postpay": True,
                "pvt_max_postpay_amount": 10**12,
            },
            account_id,
            "limits",
        ),
        stamp({"_id": "onbill", "billing_day": 1}, account_id, "onbill"),
        stamp(
            {
                "_id": "phone_numbers",
                "+74951230000": {"state": "in_service", "features": []},
                "+78001230000": {"state": "in_service", "features": []},
            },
            account_id,
            "phone_numbers",
        ),
    ]
    for n, (kind, level) in enumerate([("user", "admin"), ("user", "user"), ("user", "user")]):
        docs.append(stamp({"_id": f"user{n:028d}", "priv_level": level}, account_id, kind))
    for n, device_type in enumerate(["sip_device", "sip_device", "softphone", "cellphone"]):
        docs.append(stamp({"_id": f"device{n:026d}", "device_type": device_type}, account_id, "device"))
    return docs


def seed(store: DocumentStore, accounts: int) -> tuple[list[str], list]:
    design_docs = load_design_docs()
    store_setup.initialise(store, design_docs)
    master, reseller = new_account_id(), new_account_id()
    created = gregorian(datetime(2025, 1, 1, tzinfo=MSK))
    for account_id in (master, reseller):
        store.ensure_database(account_db(account_id))
    store.bulk_put(
        ACCOUNTS_DB,
        [
            account_doc(master, "Master", [], pvt_created=created),
            account_doc(reseller, "Reseller", [master], reseller=True, pvt_created=created),
        ],
    )
    store.bulk_put(SERVICES_DB, [{"_id": reseller, "pvt_type": "service", "pvt_reseller": True}])
    store.bulk_put(
        account_db(reseller),
        [{"_id": "onbill", "currency": "RUB", "timezone": "Europe/Moscow", "default_service_plan": "plan_pbx"}, PLAN],
    )
    ids = [new_account_id() for _ in range(accounts)]
    for start in range(0, accounts, 500):
        batch = ids[start : start + 500]
        store.bulk_put(
            ACCOUNTS_DB, [account_doc(a, f"Customer {a[:6]}", [master, reseller], pvt_created=created) for a in batch]
        )
        store.bulk_put(SERVICES_DB, [{"_id": a, "pvt_type": "service", "pvt_reseller_id": reseller} for a in batch])
        for account_id in batch:
            db = account_db(account_id)
            store.create_database(db)
            store_setup.install_design_docs(store, db, design_docs)
            store.bulk_put(db, account_contents(account_id))
    return ids, design_docs


def crawl(ports: BillingPorts, ids: list[str], day: date, what: str) -> tuple[float, int]:
    """The day's crawl of every account; its duration and the charges it wrote."""
    entries = 0
    started = time.perf_counter()
    for start in range(0, len(ids), CHUNK_SIZE):
        outcome = bill_accounts(ports, ids[start : start + CHUNK_SIZE], day=day)
        if outcome.failed or outcome.not_done:
            raise SystemExit(f"accounts not billed on {day}: {outcome.failed or outcome.not_done}")
        entries += sum(1 for event in outcome.events if event.name == "charged")
        done = start + CHUNK_SIZE
        if done % 10_000 == 0:  # long runs say where they are
            elapsed = time.perf_counter() - started
            print(f"  ... {done} {what}, {done / elapsed:,.0f} accounts/s so far", flush=True)
    return time.perf_counter() - started, entries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--reconciles", type=int, default=200)
    parser.add_argument("--couch", help="a CouchDB URL (default: the embedded store)")
    parser.add_argument("--passes", type=int, default=0, help="accounts billed at once (0: as `kazbill serve` would)")
    args = parser.parse_args()
    key, engine = f"period_close.{store_key(args.couch)}", store_name(args.couch)
    with tempfile.TemporaryDirectory() as workdir:
        store: DocumentStore = (
            CouchDbStore(args.couch) if args.couch else EmbeddedStore(Path(workdir) / "period_close.sqlite3")
        )
        started = time.perf_counter()
        ids, design_docs = seed(store, args.accounts)
        seeded_s = time.perf_counter() - started
        print(f"  seeded {args.accounts} accounts in {seeded_s:.0f} s", flush=True)
        clock = SettableClock(datetime(2026, 11, 29, 0, 5, tzinfo=MSK))
        passes = args.passes or (PASSES_ON_COUCHDB if args.couch else 1)
        ports = BillingPorts(store, clock, design_docs, passes_at_once=passes)

        # The crawl of 29 November: each account's first billing (its November period opened,
        # its November database made) and, from the 28th on, its December database made ahead
        # as Kazoo makes it (months_ahead.py). Timed apart: it is not a month's start.
        first_s, _ = crawl(ports, ids, date(2026, 11, 29), "first billings")
        # 1 December: every account opens its period, as the daily crawl bills them: chunks of
        # the scheduler's size, documents issued if due, `passes` accounts at once as a shard does.
        clock.set(datetime(2026, 12, 1, 0, 5, tzinfo=MSK))
        meter = RequestMeter(args.couch)
        opening_s, entries = crawl(ports, ids, date(2026, 12, 1), "accounts opened")
        spent = meter.spent()

        clock.set(datetime(2026, 12, 9, 14, 0, tzinfo=MSK))
        latencies = []
        for n, account_id in enumerate(ids[: args.reconciles]):
            store.put(
                account_db(account_id),
                stamp({"_id": f"device{100 + n:026d}", "device_type": "sip_device"}, account_id, "device"),
            )
            started = time.perf_counter()
            reconcile_account(ports, account_id)
            latencies.append((time.perf_counter() - started) * 1000)
        store.close()

    print(
        f"period close benchmark ({engine}, {args.accounts} accounts, ~12 items each, seeded in {seeded_s:.0f} s, "
        f"{passes} at once)"
    )
    print(
        f"  first billings (29 November: first period, the month's database, December's made ahead): "
        f"{args.accounts / first_s:,.0f} accounts/s"
    )
    print(
        f"  period openings (1 December): {args.accounts / opening_s:,.0f} accounts/s, "
        f"{entries / opening_s:,.0f} entries/s ({entries} entries in {opening_s:.1f} s)"
    )
    if spent is not None:
        print(f"  store requests: {spent / args.accounts:.1f} per account opened")
        record(
            f"{key}.store_requests_per_account",
            spent / args.accounts,
            "requests/account",
            higher_is_better=False,
            store=engine,
        )
    print(
        f"  one reconcile after a device is added: p50 {statistics.median(latencies):.1f} ms, "
        f"p99 {sorted(latencies)[int(0.99 * (len(latencies) - 1))]:.1f} ms over {len(latencies)}"
    )
    record(
        f"{key}.accounts_opened",
        args.accounts / opening_s,
        "accounts/s",
        store=engine,
        reference=f"store.{store_key(args.couch)}.months_opened",
    )
    record(
        f"{key}.entries_written",
        entries / opening_s,
        "entries/s",
        store=engine,
        reference=f"store.{store_key(args.couch)}.bulk_write",
    )
    record(f"{key}.first_billings", args.accounts / first_s, "accounts/s", store=engine)
    record(f"{key}.reconcile_p50", statistics.median(latencies), "ms", higher_is_better=False, store=engine)


if __name__ == "__main__":
    main()
