"""Per-minute rating: worked examples of Kazoo's slices, the choice of rate, CSV decks, and the
invariants of the cost."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.domain.rate_csv import CsvReport, rate_rows
from bookkeeper.domain.rating import Rate, RateDeck, RateError, call_cost, parse_rate


def rate(**fields) -> Rate:
    return parse_rate({"prefix": "7495", "rate_cost": "1.20", **fields})


@pytest.mark.parametrize(
    "fields, seconds, amount, billed",
    [
        ({}, 61, 24_000, 120),  # 60 s minimum, then a 60 s slice: 2 minutes at 1.20
        ({"rate_increment": 1, "rate_minimum": 1}, 61, 12_200, 61),  # per second: 61/60 × 1.20
        ({"rate_increment": 6, "rate_minimum": 30}, 31, 7_200, 36),  # 30 + one 6-s slice
        ({"rate_nocharge_time": 5}, 5, 0, 0),  # within the free time: nothing, not even the surcharge
        ({"rate_nocharge_time": 5, "rate_surcharge": "0.50"}, 6, 17_000, 60),  # surcharge + the minimum
        ({}, 0, 0, 0),
        ({"rate_cost": "0.00125", "rate_increment": 1, "rate_minimum": 1}, 7, 1, 7),  # 0.1458 units → 1 (half up)
    ],
)
def test_worked_examples_of_kazoos_slices(fields, seconds, amount, billed):
    cost = call_cost(rate(**fields), seconds)
    assert (cost.amount, cost.billed_seconds) == (amount, billed)


def test_the_longest_prefix_that_applies_wins_then_weight_then_price():
    deck = RateDeck(
        [
            parse_rate(doc)
            for doc in (
                {"_id": "ru", "prefix": "7", "rate_cost": "2.00"},
                {"_id": "moscow", "prefix": "7495", "rate_cost": "0.90"},
                {"_id": "moscow-premium", "prefix": "7495", "rate_cost": "0.50", "options": ["premium"]},
                {"_id": "moscow-in", "prefix": "74951", "rate_cost": "0.10", "direction": ["inbound"]},
                {"_id": "moscow-cheap-heavy", "prefix": "7495", "rate_cost": "0.10", "weight": 90},
                {"_id": "mobile", "prefix": "79", "rate_cost": "3.00", "routes": ["^\\+?79\\d{9}$"]},
            )
        ]
    )
    assert deck.find("+74951234567", "outbound").rate_id == "moscow"  # 74951 is inbound only
    assert deck.find("74951234567", "inbound").rate_id == "moscow-in"
    assert deck.find("74951234567", "outbound", frozenset({"premium"})).rate_id == "moscow-premium"
    assert deck.find("79161234567").rate_id == "mobile"
    assert deck.find("7916123").rate_id == "ru"  # the mobile route wants 11 digits
    assert deck.find("4420", "outbound") is None  # no rate: the call is unrated, never free
    assert len(deck) == 6


@pytest.mark.parametrize(
    "doc, field",
    [
        ({"prefix": "7a", "rate_cost": "1"}, "prefix"),
        ({"prefix": "7"}, "rate_cost"),
        ({"prefix": "7", "rate_cost": "-1"}, "rate_cost"),
        ({"prefix": "7", "rate_cost": "x"}, "rate_cost"),
        ({"prefix": "7", "rate_cost": "1", "rate_increment": 0}, "rate_increment"),
        ({"prefix": "7", "rate_cost": "1", "direction": ["sideways"]}, "direction"),
        ({"prefix": "7", "rate_cost": "1", "routes": ["(unclosed"]}, "routes"),
        ({"prefix": "7", "rate_cost": "1", "weight": 0}, "weight"),
    ],
)
def test_a_rate_that_cannot_be_used_names_the_field(doc, field):
    with pytest.raises(RateError) as refused:
        parse_rate(doc)
    assert refused.value.field == field


def test_a_csv_deck_becomes_rate_documents_and_every_bad_line_is_named():
    good = [
        "prefix,rate_cost,rate_increment,rate_minimum,direction,rate_name",
        "7495,0.90,6,30,outbound,Moscow",
        "+7812,0.95,,,outbound:inbound,Saint Petersburg",
    ]
    report = CsvReport()
    docs = list(rate_rows(good, "retail", report))
    assert report.ok and report.rows == 2
    assert docs[0] == {
        "_id": "rate-retail-7495-outbound-none",
        "pvt_type": "rate",
        "ratedeck_id": "retail",
        "prefix": "7495",
        "rate_cost": "0.90",
        "rate_increment": 6,
        "rate_minimum": 30,
        "direction": ["outbound"],
        "rate_name": "Moscow",
    }
    assert docs[1]["prefix"] == "7812" and docs[1]["direction"] == ["outbound", "inbound"]
    bad = CsvReport()
    list(
        rate_rows(
            ["prefix,rate_cost,weight", "7,1,5", "7x,1,5", "8,abc,5", "9,1,five", "7,2,5", "1,1,5,extra"], "retail", bad
        )
    )
    assert [(line, column) for line, column, _ in bad.errors] == [
        (3, "prefix"),
        (4, "rate_cost"),
        (5, "weight"),
        (6, "prefix"),
        (7, "row"),
    ]
    header = CsvReport()
    list(rate_rows(["prefix,cost"], "retail", header))
    assert {column for _, column, _ in header.errors} == {"rate_cost", "cost"}


@given(
    st.integers(0, 20_000),
    st.integers(1, 120),
    st.integers(1, 120),
    st.integers(0, 30),
    st.decimals(min_value=0, max_value=50, places=4),
    st.decimals(min_value=0, max_value=5, places=2),
)
def test_cost_invariants(seconds, increment, minimum, nocharge, cost, surcharge):
    """Never negative; never for fewer seconds than talked (unless free); monotonic in seconds;
    the billed seconds are the minimum plus whole increments."""
    rated = rate(
        rate_increment=increment,
        rate_minimum=minimum,
        rate_nocharge_time=nocharge,
        rate_cost=str(cost),
        rate_surcharge=str(surcharge),
    )
    now, later = call_cost(rated, seconds), call_cost(rated, seconds + 1)
    assert now.amount >= 0 and later.amount >= now.amount
    if not now.free:
        assert now.billed_seconds >= seconds and (now.billed_seconds - minimum) % increment == 0
        assert now.billed_seconds - seconds < max(increment, minimum)
        exact = Decimal(surcharge) * 10_000 + Decimal(cost) * 10_000 * now.billed_seconds / 60
        assert abs(now.amount - exact) <= Decimal("0.5")
