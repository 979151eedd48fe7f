"""Customer list benchmark: `GET .../customers` of a reseller with N customers (10,000 by
default), through `kazbill api` (gunicorn, two workers) on the embedded store, under an open-loop
load, against a bare Falcon endpoint on the same gunicorn as the reference. Also a search, a
standing filter, the month's revenue (`GET .../revenue`: per source and service, from the month
figures beside each summary) and the whole list as CSV. Prints figures; asserts nothing about time.

    .venv/bin/python -m bench.accounts_list [--accounts 10000] [--seconds 10] [--rates 100,300]

The customers are created as Kazoo creates accounts (the `accounts` database, tree under the
reseller) and their directory summaries written through the code the billing passes write them
with (bookkeeper.services.billing.directory), each with its own balance and standing; billing
10,000 accounts first would time the passes (bench.period_close does), not the list.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import sys
import tempfile
import time
from pathlib import Path

from bench.api import bench_bare, open_loop, request, serving
from bench.record import record, store_name
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.domain.directory import account_summary
from bookkeeper.domain.kazoo_names import ACCOUNTS_DB
from bookkeeper.domain.month_figures import month_figures
from bookkeeper.services.billing.directory import DIRECTORY_DB, write_summaries
from testkit.fixtures.api_world import ApiWorld, md5
from testkit.fixtures.kazoo_docs import account_doc, new_account_id

MONTH = (2026, 12)
WORDS = ("Alpha", "Beta", "Gamma", "Delta", "Clinic", "Taxi", "Logistics", "Bakery", "Studio", "Hotel")


def seed(path: Path, accounts: int) -> tuple[str, str]:
    """The reseller's id, and its name to log in by."""
    store = EmbeddedStore(path)
    world = ApiWorld(store).build()
    reseller, tree = world.ids["reseller"], [world.ids["master"], world.ids["reseller"]]
    rng = random.Random(20261205)
    started = time.perf_counter()
    for first in range(0, accounts, 1000):
        docs, summaries = [], []
        for n in range(first, min(first + 1000, accounts)):
            account_id = new_account_id()
            name = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {n:05d}"
            docs.append(account_doc(account_id, name, tree))
            delinquent = n % 17 == 0
            summaries.append(
                account_summary(
                    account_id=account_id,
                    name=name,
                    realm=docs[-1]["realm"],
                    tree=tree,
                    reseller_id=reseller,
                    currency="RUB",
                    balance=rng.randint(-50_000_000, 500_000_000),
                    standing={"status": "delinquent" if delinquent else "good_standing", "blocked": delinquent},
                    trial_expires=None,
                    monthly=rng.choice((15_000_000, 35_000_000, 120_000_000)),
                    closed=False,
                    now_gregorian=63_900_000_000,
                )
            )
        store.bulk_put(ACCOUNTS_DB, docs)
        write_summaries(store, summaries)
        store.bulk_put(DIRECTORY_DB, [month_in_figures(summary, rng) for summary in summaries])
    print(f"  seeded {accounts:,} customers in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    store.close()
    return reseller, "Reseller"


def month_in_figures(summary: dict, rng: random.Random) -> dict:
    devices, calls, paid = rng.randint(1, 30) * 5_000_000, rng.randint(0, 900) * 12_000, rng.randint(0, 10) * 10_000_000
    return month_figures(
        account_id=summary["_id"],
        month=MONTH,
        tree=summary["tree"],
        currency=summary["currency"],
        sums={("services", "devices"): -devices, ("per-minute-voip", "calls"): -calls, ("payments", "payments"): paid},
        now_gregorian=63_900_000_000,
    )


def login(port: int, reseller_name: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    status, body = request(
        conn, "PUT", "/v2/user_auth", data={"credentials": md5("boss:secret"), "account_name": reseller_name}
    )
    if status != 201:
        raise RuntimeError(f"login failed: {status} {body[:300]!r}")
    return json.loads(body)["auth_token"]


def export_seconds(port: int, path: str, token: str) -> tuple[float, int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    started = time.perf_counter()
    status, body = request(conn, "GET", path, token, headers={"Accept": "text/csv"})
    if status != 200:
        raise RuntimeError(f"export failed: {status} {body[:300]!r}")
    return time.perf_counter() - started, body.count(b"\n") - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rates", type=lambda s: [float(r) for r in s.split(",")], default=[100.0, 300.0])
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    engine = store_name(None)
    with tempfile.TemporaryDirectory(prefix="kazbill-bench-accounts-") as tmp:
        workdir = Path(tmp)
        reference = {rate: r for _, _, rate, r in bench_bare(workdir, args)}
        reseller, name = seed(workdir / "accounts.sqlite3", args.accounts)
        base = f"/v2/accounts/{reseller}/customers"
        lists = {
            "first_page": f"{base}?page_size=50",
            "search": f"{base}?page_size=50&q=clinic%20taxi",
            "delinquent": f"{base}?page_size=50&standing=delinquent",
            "revenue": f"/v2/accounts/{reseller}/revenue?month={MONTH[0]:04d}{MONTH[1]:02d}",
        }
        results = []
        with serving({"KAZBILL_STORE_PATH": str(workdir / "accounts.sqlite3")}, workdir / "gunicorn.log") as port:
            token = login(port, name)
            for path in lists.values():  # the view's first index build is the seed's, not a request's
                request(http.client.HTTPConnection("127.0.0.1", port, timeout=300), "GET", path, token)
            for label, path in lists.items():
                for rate in args.rates:
                    print(f"  {label} at {rate:g}/s", file=sys.stderr)
                    request(http.client.HTTPConnection("127.0.0.1", port, timeout=60), "GET", "/health")
                    results.append((label, rate, open_loop(port, path, token, rate, args.seconds, args.connections)))
            seconds, rows = export_seconds(port, base, token)
    print(
        f"\ncustomer list: {args.accounts:,} customers of one reseller, store {engine}, "
        f"kazbill api with 2 gunicorn workers, {args.connections} connections, {args.seconds:g} s per rate"
    )
    print(f"{'list':<14}{'target/s':>9}{'achieved/s':>11}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'bare p99':>10}")
    for label, rate, r in results:
        print(
            f"{label:<14}{rate:>9g}{r['achieved']:>11.1f}{r['p50']:>9.1f}{r['p99']:>9.1f}{r['errors']:>8}"
            f"{reference[rate]['p99']:>10.1f}"
        )
        for figure in ("achieved", "p50", "p99"):
            record(
                f"accounts_list.embedded.{label}@{rate:g}.{figure}",
                r[figure],
                "req/s" if figure == "achieved" else "ms",
                higher_is_better=figure == "achieved",
                store=engine,
                reference=f"api.bare_falcon@{rate:g}.{figure}",
            )
    print(f"CSV export of all {rows:,} rows: {seconds:.2f} s ({rows / seconds:,.0f} rows/s)")
    record("accounts_list.embedded.csv_export", rows / seconds, "rows/s", store=engine)


if __name__ == "__main__":
    main()
