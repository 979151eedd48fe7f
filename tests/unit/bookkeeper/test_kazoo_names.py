from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.domain import kazoo_names as names

FIXTURE_ID = "account0000000000000000000044944"  # Kazoo's own fixtures use ids like this one
HEX_ID = "4fd3b7c0a2e1d4f5b6c7d8e9f0a1b2c3"
account_ids = st.text(alphabet="0123456789abcdefghijklmnopqrstuvwxyz", min_size=32, max_size=32)


def test_an_account_database_is_split_two_two_twenty_eight():
    assert names.account_db(FIXTURE_ID) == "account/ac/co/unt0000000000000000000044944"
    assert names.account_db(HEX_ID) == "account/4f/d3/b7c0a2e1d4f5b6c7d8e9f0a1b2c3"


def test_the_url_form_encodes_the_slashes():
    assert names.encode_db_name(names.account_db(FIXTURE_ID)) == "account%2Fac%2Fco%2Funt0000000000000000000044944"


def test_a_monthly_database_appends_the_year_and_month():
    assert names.account_modb(HEX_ID, 2026, 3) == "account/4f/d3/b7c0a2e1d4f5b6c7d8e9f0a1b2c3-202603"
    with pytest.raises(ValueError):
        names.account_modb(HEX_ID, 2026, 13)


@pytest.mark.parametrize(
    "spelling",
    [
        HEX_ID,
        "account/4f/d3/b7c0a2e1d4f5b6c7d8e9f0a1b2c3",
        "account%2F4f%2Fd3%2Fb7c0a2e1d4f5b6c7d8e9f0a1b2c3",
        "account%2f4f%2fd3%2fb7c0a2e1d4f5b6c7d8e9f0a1b2c3",
        "account/4f/d3/b7c0a2e1d4f5b6c7d8e9f0a1b2c3-202611",
        "account%2F4f%2Fd3%2Fb7c0a2e1d4f5b6c7d8e9f0a1b2c3-202611",
        "account4fd3b7c0a2e1d4f5b6c7d8e9f0a1b2c3",  # pouchdb-server's listing strips the slashes
    ],
)
def test_every_spelling_kazoo_accepts_gives_the_account_id(spelling):
    assert names.raw_account_id(spelling) == HEX_ID


def test_a_database_name_is_classified():
    assert names.parse_db_name("account%2F4f%2Fd3%2Fb7c0a2e1d4f5b6c7d8e9f0a1b2c3-202611") == names.DbName(
        "account/4f/d3/b7c0a2e1d4f5b6c7d8e9f0a1b2c3-202611", "account-month", HEX_ID, 2026, 11
    )
    assert names.parse_db_name("account4fd3b7c0a2e1d4f5b6c7d8e9f0a1b2c3").kind == "account"
    assert names.parse_db_name("accounts").kind == "accounts"
    assert names.parse_db_name("kazbill_failures").kind == "system"
    assert names.parse_db_name("ratedeck").kind == "other"


@pytest.mark.parametrize("bad", ["", "short", HEX_ID.upper(), HEX_ID + "0", "account/4f/d3/x", None, 42])
def test_a_malformed_account_id_is_refused_naming_the_value(bad):
    with pytest.raises(names.InvalidAccountId) as refused:
        names.raw_account_id(bad)
    assert repr(bad) in str(refused.value)


@pytest.mark.parametrize(
    "db, problem",
    [
        ("accounts", None),
        ("account/aa/bb/cc", None),
        ("kazbill_failures", None),
        ("a$b(c)+d-e_f/g", None),
        ("Accounts", "lowercase"),
        ("1accounts", "lowercase"),
        ("bad name", "lowercase"),
        ("", "non-empty"),
        ("x" * 239, "238"),
    ],
)
def test_database_names_follow_couchdbs_rule(db, problem):
    found = names.database_name_problem(db)
    assert (found is None) if problem is None else (problem in found)


@given(account_ids, st.integers(1, 9999), st.integers(1, 12))
def test_names_round_trip_for_any_account_and_month(account_id, year, month):
    modb = names.account_modb(account_id, year, month)
    parsed = names.parse_db_name(names.encode_db_name(modb))
    assert (parsed.account_id, parsed.year, parsed.month, parsed.name) == (account_id, year, month, modb)
    assert names.raw_account_id(names.account_db(account_id)) == account_id


def test_monthly_documents_and_kazoo_time():
    assert names.modb_doc_id(2026, 11, "ledgers_monthly_rollover") == "202611-ledgers_monthly_rollover"
    assert names.to_gregorian_seconds(0) == 62_167_219_200
    assert names.from_gregorian_seconds(63_960_710_400) == 1_793_491_200  # 2026-11-01T00:00:00Z
