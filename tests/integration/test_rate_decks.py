"""Rate decks on both stores: a large CSV imported in batches, replaced (old rates removed),
refused whole when one line is wrong, and read back as the deck the rater uses."""

from __future__ import annotations

import pytest

from bookkeeper.domain.rating import call_cost
from bookkeeper.services.payments.gateway_settings import NotAReseller
from bookkeeper.services.rating.rate_decks import import_rate_deck, load_rate_deck
from testkit.fixtures.api_world import ApiWorld

pytestmark = pytest.mark.integration


def deck_lines(count: int, cost: str = "0.10") -> list[str]:
    return ["prefix,rate_cost,rate_increment,rate_minimum"] + [f"{1000000 + n},{cost},1,1" for n in range(count)]


def test_a_large_deck_is_imported_in_batches_then_replaced(store):
    world = ApiWorld(store).build()
    reseller = world.ids["reseller"]
    seen: list[int] = []
    first = import_rate_deck(store, reseller, "wholesale", deck_lines(5_000), progress=seen.append)
    assert (first.written, first.removed, sum(seen), len(seen)) == (5_000, 0, 5_000, 3)
    deck = load_rate_deck(store, reseller, "wholesale")
    assert len(deck) == 5_000 and call_cost(deck.find("10042991234"), 90).amount == 1_500
    second = import_rate_deck(store, reseller, "wholesale", deck_lines(3_000, cost="0.20"))
    assert (second.written, second.removed) == (3_000, 2_000)
    deck = load_rate_deck(store, reseller, "wholesale")
    assert len(deck) == 3_000 and deck.find("1004299") is None and call_cost(deck.find("10002991"), 60).amount == 2_000
    broken = import_rate_deck(store, reseller, "wholesale", deck_lines(10) + ["12x,1,1,1"])
    assert [(line, column) for line, column, _ in broken.report.errors] == [(12, "prefix")] and broken.written == 0
    assert len(load_rate_deck(store, reseller, "wholesale")) == 3_000


def test_only_a_reseller_has_decks_and_an_unknown_deck_rates_nothing(store):
    world = ApiWorld(store).build()
    with pytest.raises(NotAReseller):
        import_rate_deck(store, world.ids["customer_two"], "retail", deck_lines(1))
    assert load_rate_deck(store, world.ids["reseller"], "never").find("74951234567") is None
