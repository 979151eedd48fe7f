"""A shard's batch when the store refuses one account (every request for its databases raises
StoreUnavailable, as an unexpected 500 does) but answers the rest: the others are billed and
charged, the refused account or call handed back, and at the fifth refusal in a row (over
KAZBILL_STORE_REFUSED_FOR; none here) stored as a replayable failure, the batch then done
without it. A store that answers nothing, or refuses two things in one batch, is an outage:
handed back however often, never stored, and every count starts again."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bookkeeper.domain.kazoo_names import account_db
from bookkeeper.ports import StoreUnavailable, ViewQuery
from bookkeeper.services.billing.store_refusals import StoreRefusals
from bookkeeper.services.operations import account_batches, call_batches
from bookkeeper.services.operations.account_batches import bill_accounts
from bookkeeper.services.operations.call_batches import rate_calls
from bookkeeper.services.operations.failure_replay import replay_work
from bookkeeper.services.setup.failures import FAILURES_DB
from tests.integration.test_call_rating import call, chain, debits

pytestmark = pytest.mark.integration
__all__ = ["chain"]  # the fixture, shared
DAY = date(2026, 11, 10)


class RefusingStore:
    """The store, but every call about a database whose name starts with one of `refused`
    raises StoreUnavailable; the rest is the store's."""

    def __init__(self, store, *refused: str):
        self._store, self._refused = store, refused

    def __getattr__(self, name):
        method = getattr(self._store, name)
        if not callable(method):
            return method

        def guarded(*args, **kwargs):
            db = args[0] if args else kwargs.get("db")
            if isinstance(db, str) and db.startswith(self._refused):
                raise StoreUnavailable("http://admin:secret@couchdb.example:5984", "HTTP 500: unknown_error")
            return method(*args, **kwargs)

        return guarded


def refusing(chain, *names: str) -> tuple:
    """The chain's ports on a store refusing those accounts' databases, refusals stored at the
    fifth in a row however soon."""
    world, ports = chain
    refused = RefusingStore(world.store, *(account_db(world.ids[name]) for name in names))
    return world, replace(ports, store=refused, refusals=StoreRefusals(after_s=0))


def stored(world, code: str) -> list[dict]:
    """The test's own failures of that kind (on a shared CouchDB, the failures database may hold
    other tests' records)."""
    store = world.store
    if not store.database_exists(FAILURES_DB):
        return []
    rows = store.all_docs(FAILURES_DB, ViewQuery(include_docs=True)).rows
    ours = set(world.ids.values())
    return [
        row.doc for row in rows if row.doc and row.doc.get("reason_code") == code and row.doc.get("account_id") in ours
    ]


@pytest.mark.parametrize("at_once", [1, 4])
def test_an_account_refused_alone_is_handed_back_four_times_then_stored_and_the_others_billed(chain, at_once):
    world, ports = refusing(chain, "customer_two")
    ports = replace(ports, passes_at_once=at_once)
    ids = [world.ids[name] for name in ("customer", "customer_two", "other_customer")]
    refused = world.ids["customer_two"]
    for _ in range(4):
        outcome = bill_accounts(ports, ids, day=DAY)
        assert outcome.not_done == (refused,) and not outcome.failed
        assert outcome.done == (ids[0], ids[2])  # not held back by it
        assert stored(world, "billing_store_refused") == []
    outcome = bill_accounts(ports, ids, day=DAY)
    assert outcome.done == (ids[0], ids[2]) and not outcome.not_done
    assert [account for account, _ in outcome.failed] == [refused]
    [record] = stored(world, "billing_store_refused")
    assert record["account_id"] == refused and record["payload"]["day"] == DAY.isoformat()
    assert (
        record["reason"]
        == "the store refused this work 5 times in a row over 0s while answering the rest: HTTP 500: unknown_error"
    )  # no address
    work = replay_work(record)
    assert (work.kind, work.account_ids, work.day) == ("crawl", (refused,), DAY.isoformat())
    # Stored, it is forgotten: refused again, it is handed back again (a person replays it).
    again = bill_accounts(ports, ids, day=DAY)
    assert again.not_done == (refused,) and not again.failed


def test_an_answer_between_refusals_starts_the_count_again(chain):
    world, blocked = refusing(chain, "customer_two")
    refused = world.ids["customer_two"]
    for _ in range(4):
        assert bill_accounts(blocked, [refused]).not_done == (refused,)
    assert bill_accounts(replace(blocked, store=world.store), [refused]).done == (refused,)  # mended for a moment
    for _ in range(4):
        assert bill_accounts(blocked, [refused]).not_done == (refused,)
    assert stored(world, "billing_store_refused") == []


def test_five_refusals_sooner_than_the_span_are_not_a_failure_yet(chain):
    world, ports = refusing(chain, "customer_two")
    now = [0.0]
    ports = replace(ports, refusals=StoreRefusals(after_s=300, monotonic=lambda: now[0]))
    refused = world.ids["customer_two"]
    for second in (0, 10, 20, 30, 40, 299):  # a redelivery every few seconds: a blip, not yet a failure
        now[0] = second
        assert bill_accounts(ports, [refused]).not_done == (refused,)
    now[0] = 300
    assert [account for account, _ in bill_accounts(ports, [refused]).failed] == [refused]


def test_two_accounts_refused_in_one_batch_are_the_stores_trouble_not_theirs(chain):
    # One node of a cluster away, a database every pass needs refusing: each account is
    # refused in turn. Two in one batch is an outage: handed back, counted never, the counts
    # of earlier refusals started again (and nothing more is started after the second).
    world, ports = refusing(chain, "customer_two", "other_customer")
    lone = world.ids["customer_two"]
    for _ in range(3):
        assert bill_accounts(ports, [lone]).not_done == (lone,)
    assert ports.refusals.count(f"{lone}@live") == 3
    ids = [world.ids[name] for name in ("customer_two", "other_customer", "customer")]
    for _ in range(6):
        outcome = bill_accounts(ports, ids)
        assert outcome.not_done == tuple(ids) and not outcome.failed and not outcome.done
    assert ports.refusals.count(f"{lone}@live") == 0
    assert stored(world, "billing_store_refused") == []


def test_a_store_that_answers_nothing_is_an_outage_handed_back_however_often(chain, monkeypatch):
    world, ports = refusing(chain, "customer_two")
    monkeypatch.setattr(account_batches, "store_answers", lambda store: False)
    ids = [world.ids["customer_two"], world.ids["customer"]]
    for _ in range(8):
        outcome = bill_accounts(ports, ids)
        assert outcome.not_done == tuple(ids) and not outcome.done and not outcome.failed  # nothing more started
    assert stored(world, "billing_store_refused") == []


def test_a_call_refused_alone_is_handed_back_the_others_charged_and_stored_at_the_fifth(chain):
    world, ports = refusing(chain, "customer_two")
    customer, refused = world.ids["customer"], world.ids["customer_two"]
    calls = [
        call(world, call_id="c0ffee-0801"),
        call(world, call_id="c0ffee-0802", account="customer_two"),
        call(world, call_id="c0ffee-0803"),
    ]
    for _ in range(4):
        outcome = rate_calls(ports, calls)
        assert outcome.done == (customer, customer) and outcome.not_done == (refused,) and not outcome.failed
    outcome = rate_calls(ports, calls)
    assert outcome.done == (customer, customer) and not outcome.not_done
    assert [account for account, _ in outcome.failed] == [refused]
    [record] = stored(world, "rating_store_refused")
    assert replay_work(record).calls == (calls[1],)
    assert len(debits(world.store, customer)) == 2  # rated five times, charged once each


def test_a_call_refused_for_good_still_has_its_accounts_standing_decided(chain, monkeypatch):
    # The customer's debit written, its reseller's level refused: the call is stored, and the
    # customer's standing (its balance just went down) is billed with the batch's.
    world, ports = refusing(chain, "customer_two")
    standing: list[list[str]] = []
    real = call_batches.bill_accounts
    monkeypatch.setattr(call_batches, "bill_accounts", lambda p, ids: standing.append(list(ids)) or real(p, ids))
    refused = call(world, call_id="c0ffee-0851", account="customer_two")
    for _ in range(5):
        rate_calls(ports, [refused])
    assert world.ids["customer_two"] in standing[-1]


def test_two_calls_refused_in_one_batch_are_an_outage(chain):
    world, ports = refusing(chain, "customer_two", "other_customer")
    calls = [
        call(world, call_id="c0ffee-0861", account="customer_two"),
        call(world, call_id="c0ffee-0862", account="other_customer"),
        call(world, call_id="c0ffee-0863"),
    ]
    for _ in range(6):
        outcome = rate_calls(ports, calls)
        assert not outcome.done and not outcome.failed and len(outcome.not_done) == 3
    assert stored(world, "rating_store_refused") == []


def test_calls_are_handed_back_whole_when_the_store_answers_nothing(chain, monkeypatch):
    world, ports = refusing(chain, "customer_two")
    monkeypatch.setattr(call_batches, "store_answers", lambda store: False)
    calls = [call(world, call_id="c0ffee-0901", account="customer_two"), call(world, call_id="c0ffee-0902")]
    for _ in range(6):
        outcome = rate_calls(ports, calls)
        assert outcome.not_done == (world.ids["customer_two"], world.ids["customer"]) and not outcome.failed
    assert debits(world.store, world.ids["customer"]) == {}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.booleans()), max_size=60), st.integers(1, 6))
def test_a_failure_is_declared_exactly_at_the_nth_refusal_since_the_last_answer_or_failure(steps, before_failure):
    refusals = StoreRefusals(before_failure, after_s=0)
    in_a_row: dict[str, int] = {}
    for key, is_refusal in steps:
        if not is_refusal:
            refusals.answered(key)
            in_a_row[key] = 0
            continue
        in_a_row[key] = in_a_row.get(key, 0) + 1
        declared = refusals.refused(key)
        assert declared == (in_a_row[key] == before_failure)
        if declared:  # stored, as the batch does
            refusals.answered(key)
            in_a_row[key] = 0
        assert refusals.count(key) == in_a_row[key]


def test_the_counts_kept_are_bounded_the_oldest_starting_again():
    refusals = StoreRefusals(3, 0, remembered=2)
    for key in ("a", "b", "c"):
        refusals.refused(key)
    assert (refusals.count("a"), refusals.count("b"), refusals.count("c")) == (0, 1, 1)
