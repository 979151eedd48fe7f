"""Rate-deck replacement benchmark: a deck of --rows rows (300,000 by default, the size that
outlasted gunicorn's worker timeout) imported into the embedded store as a job would run it,
then replaced by a second file: rows written aside per second, the switch with the removal of
the replaced version, and the rater's first load of the new deck. Prints figures; asserts
nothing about time.

    .venv/bin/python -m bench.rate_deck_import [--rows 300000] [--couch URL]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.record import record
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.services.rating.call_rating import deck_of
from bookkeeper.services.rating.rate_decks import import_rate_deck
from testkit.fixtures.api_world import ApiWorld


def deck(rows: int, cost: str) -> list[str]:
    return ["prefix,rate_cost,rate_increment,rate_minimum"] + [f"{10_000_000 + n},{cost},6,30" for n in range(rows)]


def replace(store, reseller: str, lines: list[str], label: str) -> None:
    marks: list[float] = []
    started = time.perf_counter()
    result = import_rate_deck(store, reseller, "bench", lines, progress=lambda _: marks.append(time.perf_counter()))
    ended = time.perf_counter()
    written = marks[-1] - started
    print(
        f"{label:<34}{result.written:>10,} rows{result.written / written:>12,.0f} rows/s written aside"
        f"{ended - marks[-1]:>8.2f} s to switch and clear"
    )
    record(f"rate_deck_import.{label.replace(' ', '_')}", result.written / written, "rows/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--couch", help="a CouchDB URL instead of the embedded store")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        if args.couch:
            from bookkeeper.adapters.couchdb_store import CouchDbStore

            store = CouchDbStore(args.couch)
        else:
            store = EmbeddedStore(Path(scratch) / "bench.sqlite3")
        reseller = ApiWorld(store).build().ids["reseller"]
        replace(store, reseller, deck(args.rows, "0.10"), "first import")
        replace(store, reseller, deck(args.rows, "0.20"), "replacement")
        started = time.perf_counter()
        loaded = deck_of(store, reseller, "bench")
        print(f"{'rater loads the new deck':<34}{len(loaded):>10,} rows{time.perf_counter() - started:>12.2f} s")
        store.close()


if __name__ == "__main__":
    main()
