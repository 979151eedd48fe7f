"""Rating benchmark, first part: the rate deck. A generated deck of --prefixes prefixes (country,
area and operator codes of 1 to 9 digits), then: building the in-memory index, longest-prefix
lookups per second for random numbers, lookups plus the call's cost, and importing the same deck
as CSV into the embedded store (rates written per second). The reference in the same run is a
bare dict probe per lookup. Prints figures; asserts nothing about time.

    .venv/bin/python -m bench.rating [--prefixes 100000] [--lookups 200000] [--calls 2000 --accounts 100]

With --calls, the second part (bench/rating_amqp.py) follows: call events from RabbitMQ to
debits in the ledger through a real `kazbill serve` (RabbitMQ must be running; --couch URL for a
CouchDB instead of the embedded store).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from bench.record import record
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.domain.rating import RateDeck, call_cost, parse_rate
from bookkeeper.services.rating.rate_decks import import_rate_deck, load_rate_deck
from testkit.fixtures.api_world import ApiWorld


def generated_prefixes(count: int, rng: random.Random) -> list[str]:
    prefixes: set[str] = set()
    while len(prefixes) < count:
        prefixes.add(str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(rng.randint(0, 8))))
    return sorted(prefixes)


def timed(
    label: str, count: int, action, figure: str | None = None, unit: str = "", reference: str | None = None
) -> float:
    started = time.perf_counter()
    action()
    elapsed = time.perf_counter() - started
    print(f"{label:<44}{count:>10,}{count / elapsed:>14,.0f}/s{elapsed:>9.2f} s")
    if figure:
        record(figure, count / elapsed, unit, reference=reference)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prefixes", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=200_000)
    parser.add_argument("--calls", type=int, default=0, help="call events through serve (0: skip that part)")
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--probes", type=int, default=30)
    parser.add_argument("--couch", help="a CouchDB URL for the AMQP part (default: the embedded store)")
    args = parser.parse_args()
    rng = random.Random(20261123)
    prefixes = generated_prefixes(args.prefixes, rng)
    docs = [
        {
            "_id": f"rate-{p}",
            "prefix": p,
            "rate_cost": f"0.{rng.randint(1, 9999):04d}",
            "rate_increment": rng.choice((1, 6, 60)),
            "rate_minimum": rng.choice((1, 30, 60)),
        }
        for p in prefixes
    ]
    numbers = ["".join(str(rng.randint(0, 9)) for _ in range(11)) for _ in range(args.lookups)]
    print(f"rating benchmark: {len(prefixes):,} prefixes, {len(numbers):,} random 11-digit numbers")
    print(f"{'step':<44}{'count':>10}{'rate':>16}{'time':>11}")
    holder: dict = {}
    timed(
        "parse rates and build the index",
        len(docs),
        lambda: holder.update(deck=RateDeck([parse_rate(d) for d in docs])),
    )
    deck = holder["deck"]
    table = {p: True for p in prefixes}
    timed(
        "reference: one dict probe per number",
        len(numbers),
        lambda: [table.get(n[:5]) for n in numbers],
        "rating.dict_probe",
        "lookups/s",
    )
    found = []
    timed(
        "longest-prefix lookup",
        len(numbers),
        lambda: found.extend(deck.find(n) for n in numbers),
        "rating.longest_prefix_lookup",
        "lookups/s",
        "rating.dict_probe",
    )
    seconds = [rng.randint(0, 3600) for _ in numbers]
    timed(
        "lookup and the call's cost",
        len(numbers),
        lambda: [
            call_cost(rate, s) for rate, s in ((deck.find(n), s) for n, s in zip(numbers, seconds, strict=True)) if rate
        ],
    )
    print(f"numbers with a rate: {sum(1 for rate in found if rate) / len(found):.1%}")
    with tempfile.TemporaryDirectory() as folder:
        store = EmbeddedStore(Path(folder) / "bench.sqlite3")
        reseller = ApiWorld(store).build().ids["reseller"]
        lines = ["prefix,rate_cost,rate_increment,rate_minimum"] + [
            f"{d['prefix']},{d['rate_cost']},{d['rate_increment']},{d['rate_minimum']}" for d in docs
        ]
        timed(
            "CSV import into the embedded store",
            len(docs),
            lambda: import_rate_deck(store, reseller, "bench", lines),
            "rating.csv_import",
            "rates/s",
            "store.embedded.bulk_write",
        )
        timed("load the deck back from the store", len(docs), lambda: load_rate_deck(store, reseller, "bench"))
        store.close()
    if args.calls:
        from bench.rating_amqp import run

        run(args.calls, args.accounts, args.probes, args.couch)


if __name__ == "__main__":
    main()
