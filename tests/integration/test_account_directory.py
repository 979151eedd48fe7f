"""The account directory on both stores: the passes keep one summary per account (balance as
read, standing, monthly charges), write it only when what a reseller sees changed, a call batch
moves the balances it debits, and the listing walks it in name order across chunks."""

from __future__ import annotations

from datetime import datetime

import pytest

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.domain.calls import FinishedCall
from bookkeeper.domain.kazoo_names import account_db, to_gregorian_seconds
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.billing.directory import DIRECTORY_DB
from bookkeeper.services.billing.ledger_book import LedgerBook
from bookkeeper.services.operations import customer_listing
from bookkeeper.services.operations.account_batches import bill_accounts
from bookkeeper.services.operations.call_batches import rate_calls
from bookkeeper.services.operations.customer_listing import CustomerFilter, customers_page
from bookkeeper.services.rating.rate_decks import import_rate_deck
from testkit.fixtures.api_world import MSK, ApiWorld

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 10, 15, 31, tzinfo=MSK)
BILLED = ("sub", "customer", "customer_two", "other_reseller", "other_customer")


@pytest.fixture
def billed(store):
    world = ApiWorld(store).build()
    world.world.add_devices(world.ids["customer_two"], 2)
    ports = BillingPorts(store, SettableClock(NOW), world.world.design_docs)
    assert not bill_accounts(ports, [world.ids[name] for name in BILLED]).failed
    return world, ports


def live_balance(world, ports, name):
    book = LedgerBook(world.store, ports.design_docs)
    return book.current_balance(world.ids[name], to_gregorian_seconds(int(NOW.timestamp())))


def test_each_billed_account_has_its_summary_with_the_balance_and_standing_its_pass_left(billed):
    world, ports = billed
    summaries = world.store.get_many(DIRECTORY_DB, [world.ids[name] for name in BILLED])
    assert len(summaries) == len(BILLED)
    two = summaries[world.ids["customer_two"]]
    standing = world.store.get(account_db(world.ids["customer_two"]), "kazbill_standing")
    assert two["balance"] == live_balance(world, ports, "customer_two") < 0
    assert (two["standing"], two["blocked"]) == (standing["status"], standing["blocked"])
    assert two["monthly"] == 2 * 500 * 10_000 and two["currency"] == "RUB"
    assert two["tree"] == [world.ids["master"], world.ids["reseller"]] and two["parent_id"] == world.ids["reseller"]


def test_a_pass_that_changes_nothing_a_reseller_sees_writes_no_summary(billed):
    world, ports = billed
    account = world.ids["customer_two"]
    before = world.store.get(DIRECTORY_DB, account)["_rev"]
    bill_accounts(ports, [account])
    assert world.store.get(DIRECTORY_DB, account)["_rev"] == before


def retail_deck_of(world, reseller_id):
    """The reseller's default deck: 3.00 a minute to Russia, by the minute."""
    onbill = world.store.get(account_db(reseller_id), "onbill")
    world.store.put(account_db(reseller_id), {**onbill, "default_rate_deck": "retail"})
    import_rate_deck(
        world.store, reseller_id, "retail", ["prefix,rate_cost,rate_increment,rate_minimum", "7,3.00,60,60"]
    )


def test_a_call_batch_moves_the_listed_balance_of_the_accounts_it_debits(billed):
    world, ports = billed
    sub, customer = world.ids["sub"], world.ids["customer"]
    retail_deck_of(world, sub)
    ended = to_gregorian_seconds(int(NOW.timestamp())) - 60
    calls = [FinishedCall(customer, f"dir-{n}", 120, "74951234567", "outbound", True, ended) for n in range(3)]
    assert not rate_calls(ports, calls).failed
    summary = world.store.get(DIRECTORY_DB, customer)
    assert summary["balance"] == live_balance(world, ports, "customer")
    assert summary["standing"] == "good_standing"  # the customer's credit line covers the calls


def test_the_listing_walks_chunk_after_chunk_in_name_order_with_a_filter(billed, monkeypatch):
    world, ports = billed
    monkeypatch.setattr(customer_listing, "CHUNK", 2)  # five accounts below the master: three chunks
    now = to_gregorian_seconds(int(NOW.timestamp()))
    everyone = customers_page(world.store, world.ids["master"], CustomerFilter(), now, page_size=10)
    assert [s["name"] for s in everyone.summaries] == [
        "Customer",
        "Customer Two",
        "Other Customer",
        "Other Reseller",
        "Sub",
    ]
    others = customers_page(world.store, world.ids["master"], CustomerFilter(search="other"), now, page_size=1)
    assert [s["name"] for s in others.summaries] == ["Other Customer"]
    rest = customers_page(
        world.store, world.ids["master"], CustomerFilter(search="other"), now, page_size=1, start=others.next_position
    )
    assert [s["name"] for s in rest.summaries] == ["Other Reseller"] and rest.next_position is None


def test_the_totals_below_an_account_add_up_its_directory_per_currency(billed):
    from bookkeeper.services.operations.reseller_figures import totals_below

    world, _ = billed
    totals = {t.currency: t for t in totals_below(world.store, world.ids["reseller"])}
    summaries = world.store.get_many(DIRECTORY_DB, [world.ids[name] for name in ("sub", "customer", "customer_two")])
    for currency, found in totals.items():
        mine = [s for s in summaries.values() if s["currency"] == currency]
        assert found.accounts == len(mine)
        assert found.monthly == sum(s["monthly"] for s in mine)
        assert found.owed == sum(max(-s["balance"], s["amount_to_restore"], 0) for s in mine)
    assert sum(t.accounts for t in totals.values()) == 3
    assert totals_below(world.store, world.ids["customer"]) == []  # nothing below a customer


def test_a_batch_of_new_repeated_and_already_debited_calls_lists_the_balance_the_ledger_sums(billed):
    """The batch takes the balance before its writes and adds what it wrote (batch_rating
    _settle): repeats within the batch and calls debited by an earlier batch move nothing."""
    world, ports = billed
    sub, customer = world.ids["sub"], world.ids["customer"]
    retail_deck_of(world, sub)
    ended = to_gregorian_seconds(int(NOW.timestamp())) - 60

    def calls(*numbers):
        return [
            FinishedCall(customer, f"mix-{n}", 60 * (n + 1), "74951234567", "outbound", True, ended) for n in numbers
        ]

    assert not rate_calls(ports, calls(0, 1)).failed
    first = live_balance(world, ports, "customer")
    assert world.store.get(DIRECTORY_DB, customer)["balance"] == first
    assert not rate_calls(ports, calls(0, 1, 2, 3, 3, 4)).failed
    assert world.store.get(DIRECTORY_DB, customer)["balance"] == live_balance(world, ports, "customer")
    # calls 2, 3 and 4 (3, 4 and 5 minutes) at 3.00 a minute, in Kazoo's units (1/10,000)
    assert first - live_balance(world, ports, "customer") == (3 + 4 + 5) * 30_000
