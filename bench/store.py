"""Store benchmark: bulk writes per second and view query latency, for both adapters on the same
data. Prints figures; asserts nothing about time.

    .venv/bin/python -m bench.store [--docs 10000] [--batch 500] [--queries 300] [--couch URL]

Without --couch the CouchDB side is a pouchdb-server started for the run.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path

from bench.record import record, store_key, store_name
from bookkeeper.adapters.couchdb_store import CouchDbStore
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.bootstrap import PASSES_ON_COUCHDB
from bookkeeper.design_docs import load_design_docs
from bookkeeper.domain.kazoo_names import account_modb
from bookkeeper.ports import DocumentStore, ViewQuery
from bookkeeper.services.setup import store_setup
from testkit.fixtures.kazoo_docs import GREGORIAN_2026_11_01, ledger_doc, new_account_id
from testkit.support.pouchdb_server import PouchDbServer

SERVICES = ("monthly_recurring", "recurring_prorate", "daily_fee", "per_minute_call", "paypal", "wire_transfer")


def ledgers(account_id: str, count: int) -> list[dict]:
    docs = []
    for n in range(count):
        service = SERVICES[n % len(SERVICES)]
        kind = "credit" if service in ("paypal", "wire_transfer") else "debit"
        docs.append(
            ledger_doc(
                account_id,
                2026,
                11,
                f"{service}-{n:07d}",
                kind,
                10_000 + (n * 7919) % 5_000_000,
                service,
                GREGORIAN_2026_11_01 + (n * 37) % (30 * 86_400),
            )
        )
    return docs


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def measure(store: DocumentStore, docs: int, batch: int, queries: int) -> dict[str, float]:
    account_id = new_account_id()
    db = account_modb(account_id, 2026, 11)
    store.create_database(db)
    payload = ledgers(account_id, docs)
    started = time.perf_counter()
    for start in range(0, docs, batch):
        store.bulk_put(db, payload[start : start + batch])
    write_s = time.perf_counter() - started

    store_setup.install_design_docs(store, db, load_design_docs())
    started = time.perf_counter()
    store.query_view(db, "kazbill_ledgers", "balance_by_service")  # builds every index of the design doc
    build_s = time.perf_counter() - started

    # Each kind of query timed, in turn: (name, view, the query for the n-th turn).
    shapes: list[tuple[str, str, Callable[[int], ViewQuery]]] = [
        ("balance", "balance_by_service", lambda n: ViewQuery()),
        ("per_service", "balance_by_service", lambda n: ViewQuery(group=True)),
        # a page of transactions, newest first, as the API reads it
        (
            "transactions_page",
            "entries_by_created",
            lambda n: ViewQuery(descending=True, start_key=GREGORIAN_2026_11_01 + 30 * 86_400 - n * 600, limit=52),
        ),
        # a rating batch's look for calls debited before (bookkeeper/services/rating/batch_rating.py)
        (
            "calls_by_keys",
            "calls_by_id",
            lambda n: ViewQuery(keys=[f"per_minute_call-{(n * 6 + k * 60 + 3) % docs:07d}" for k in range(20)]),
        ),
    ]
    latencies: list[float] = []
    by_shape: dict[str, list[float]] = {name: [] for name, _, _ in shapes}
    for n in range(queries):
        name, view, shape = shapes[n % len(shapes)]
        started = time.perf_counter()
        store.query_view(db, "kazbill_ledgers", view, shape(n))
        latencies.append((time.perf_counter() - started) * 1000)
        by_shape[name].append(latencies[-1])
    store.delete_database(db)
    return {
        "docs_per_s": docs / write_s,
        "first_index_docs_per_s": docs / build_s,
        "p50_ms": statistics.median(latencies),
        "p99_ms": percentile(latencies, 0.99),
        **{f"{name}_p50_ms": statistics.median(taken) for name, taken in by_shape.items() if taken},
    }


def months_opened(store: DocumentStore, databases: int, at_once: int) -> float:
    """The least a period opening asks of a store, as a rate: a month's database made and ten
    entries written into it, `at_once` databases at a time (as a shard bills accounts). Opening
    an account's period can go no faster than this on the same store."""
    accounts = [new_account_id() for _ in range(databases)]

    def one(account_id: str) -> None:
        db = account_modb(account_id, 2026, 11)
        store.create_database(db)
        store.bulk_put(db, ledgers(account_id, 10))

    started = time.perf_counter()
    with ThreadPoolExecutor(at_once) as pool:
        list(pool.map(one, accounts))
    rate = databases / (time.perf_counter() - started)
    for account_id in accounts:
        store.delete_database(account_modb(account_id, 2026, 11))
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--couch", help="a CouchDB URL (default: a pouchdb-server started for the run)")
    parser.add_argument("--months", type=int, default=200, help="databases made and written for months_opened")
    args = parser.parse_args()

    results = {}
    with tempfile.TemporaryDirectory() as workdir:
        embedded = EmbeddedStore(Path(workdir) / "bench.sqlite3")
        try:
            results[store_key(None), store_name(None)] = measure(embedded, args.docs, args.batch, args.queries)
            results[store_key(None), store_name(None)]["months_opened"] = months_opened(embedded, args.months, 1)
        finally:
            embedded.close()
    with nullcontext(args.couch) if args.couch else PouchDbServer() as server:
        url = args.couch or server.url
        couch = CouchDbStore(url)
        try:
            results[store_key(url), store_name(url)] = measure(couch, args.docs, args.batch, args.queries)
            results[store_key(url), store_name(url)]["months_opened"] = months_opened(
                couch, args.months, PASSES_ON_COUCHDB
            )
        finally:
            couch.close()

    print(f"store benchmark: {args.docs} ledger documents in bulks of {args.batch}, {args.queries} view queries")
    print(f"{'store':<28}{'bulk docs/s':>12}{'index docs/s':>14}{'view p50 ms':>13}{'view p99 ms':>13}")
    for (key, engine), figures in results.items():
        print(
            f"{engine:<28}{figures['docs_per_s']:>12,.0f}{figures['first_index_docs_per_s']:>14,.0f}"
            f"{figures['p50_ms']:>13.2f}{figures['p99_ms']:>13.2f}"
        )
        record(f"store.{key}.bulk_write", figures["docs_per_s"], "docs/s", store=engine)
        record(
            f"store.{key}.first_index",
            figures["first_index_docs_per_s"],
            "docs/s",
            reference=f"store.{key}.bulk_write",
            store=engine,
        )
        record(f"store.{key}.view_p50", figures["p50_ms"], "ms", higher_is_better=False, store=engine)
        record(f"store.{key}.view_p99", figures["p99_ms"], "ms", higher_is_better=False, store=engine)
        by_query = {field.removesuffix("_p50_ms"): ms for field, ms in figures.items() if field.endswith("_p50_ms")}
        print(f"  {engine}: view p50 ms by query: " + ", ".join(f"{name} {ms:.2f}" for name, ms in by_query.items()))
        for name, ms in by_query.items():
            record(f"store.{key}.{name}_p50", ms, "ms", higher_is_better=False, store=engine)
        print(f"  {engine}: {figures['months_opened']:,.0f} month databases made and written per second")
        record(f"store.{key}.months_opened", figures["months_opened"], "databases/s", store=engine)


if __name__ == "__main__":
    main()
