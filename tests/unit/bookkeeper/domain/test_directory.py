"""The account directory's summaries: what a pass leaves, and when it is worth a write."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.domain.directory import SUMMARY_TYPE, account_summary, with_changes


def summary(**changes):
    values = dict(
        account_id="a" * 32,
        name="Beta Clinic",
        realm="beta.example",
        tree=["m" * 32, "r" * 32],
        reseller_id="r" * 32,
        currency="RUB",
        balance=-1_500_000,
        standing={"status": "delinquent", "blocked": True, "reasons": ["x"], "amount_to_restore": 1_500_000},
        trial_expires=None,
        monthly=15_000_000,
        closed=False,
        now_gregorian=63_900_000_000,
    )
    return account_summary(**{**values, **changes})


def test_a_summary_says_where_the_account_sits_and_what_its_last_pass_decided():
    made = summary()
    assert made["_id"] == "a" * 32 and made["pvt_type"] == SUMMARY_TYPE
    assert made["parent_id"] == "r" * 32 and made["tree"] == ["m" * 32, "r" * 32]
    assert (made["standing"], made["blocked"], made["amount_to_restore"]) == ("delinquent", True, 1_500_000)
    assert summary(standing=None)["standing"] == "good_standing"  # never evaluated: as every new account


def test_only_a_change_a_reader_sees_is_written():
    stored = {**summary(), "_rev": "1-a"}
    assert with_changes(stored, summary(now_gregorian=63_900_086_400)) is None  # only the time moved
    moved = with_changes(stored, {"_id": "a" * 32, "balance": -2_000_000, "balance_at": 1})
    assert moved is not None and moved["balance"] == -2_000_000 and moved["_rev"] == "1-a"
    assert with_changes(None, {"_id": "a" * 32, "balance": 5}) is None  # a balance alone waits for a pass
    assert with_changes(None, summary()) == summary()


@given(st.integers(-(10**12), 10**12), st.integers(0, 10**12), st.booleans(), st.text(max_size=20))
def test_the_same_change_twice_is_written_once(balance, monthly, blocked, name):
    stored = {**summary(), "_rev": "1-a"}
    change = summary(
        balance=balance, monthly=monthly, name=name, standing={"status": "good_standing", "blocked": blocked}
    )
    once = with_changes(stored, change)
    after = once if once is not None else stored
    assert with_changes(after, change) is None
