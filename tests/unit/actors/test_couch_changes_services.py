"""The changes follower and the `services` database: a plan assigned or removed in Kazoo is a
change of the account's services document, and the account is handed off at once; and the CDR of
a call to another account of the cluster is no call to rate."""

from __future__ import annotations

import pytest

from actors.bridges.couch_changes import ChangesFollower, accounts_changed, calls_recorded
from actors.messages import HandOffDone
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, SERVICES_DB, account_modb
from bookkeeper.ports import Change
from testkit.fixtures.kazoo_docs import account_doc, new_account_id


def test_a_services_document_names_the_account_whose_plans_changed():
    account = new_account_id()
    assert accounts_changed(
        SERVICES_DB,
        [Change(account, "1", "2-a", doc={"_id": account, "pvt_type": "service", "plans": {"plan_office": {}}})],
    ) == [account]
    assert accounts_changed(SERVICES_DB, [Change(account, "2", "3-a", deleted=True)]) == [account]
    assert accounts_changed(SERVICES_DB, [Change("_design/kazbill_services", "3", "1-a", doc={})]) == []
    assert accounts_changed(SERVICES_DB, [Change("not-an-account", "4", "1-a", doc={"pvt_type": "service"})]) == []


@pytest.fixture
def store(tmp_path):
    store = EmbeddedStore(tmp_path / "services.sqlite3")
    yield store
    store.close()


def test_the_follower_hands_off_the_account_whose_plan_was_assigned(store):
    account = new_account_id()
    store.ensure_database(ACCOUNTS_DB)
    store.put(ACCOUNTS_DB, account_doc(account, "Customer", []))
    store.ensure_database(SERVICES_DB)
    handed: list[list[str]] = []
    follower = ChangesFollower(
        store, lambda ids: handed.append(list(ids)) or HandOffDone("b", tuple(ids), (), ()), poll_s=0
    )
    follower.step()
    handed.clear()
    store.put(SERVICES_DB, {"_id": account, "pvt_type": "service", "plans": {"plan_office": {"account_id": "r"}}})
    follower.step()
    assert handed == [[account]]


def test_the_cdr_of_an_on_net_leg_is_not_handed_off_to_be_rated(store):
    account = new_account_id()
    modb = account_modb(account, 2026, 3)
    store.ensure_database(modb)
    cdr = {
        "_id": "202603-onnet",
        "pvt_type": "cdr",
        "call_id": "onnet",
        "billing_seconds": 65,
        "call_direction": "outbound",
        "callee_id_number": "+74951234567",
        "timestamp": 63_911_000_000,
        "custom_channel_vars": {
            "account_id": account,
            "resource_id": new_account_id(),
            "resource_type": "onnet-termination",
        },
    }
    assert calls_recorded(store, modb, [Change(cdr["_id"], "1", "1-a", doc=cdr)], 63_911_000_100) == []
    offnet = {**cdr, "custom_channel_vars": {**cdr["custom_channel_vars"], "resource_type": "offnet-termination"}}
    assert [
        c.call_id for c in calls_recorded(store, modb, [Change(cdr["_id"], "1", "1-a", doc=offnet)], 63_911_000_100)
    ] == ["onnet"]


def test_a_services_document_written_before_its_account_is_no_reason_to_bill_yet(store):
    """Kazoo's order for a new account: the services document first, the account document last.
    Billing the first would only record an "unknown account"; the second bills the account."""
    account = new_account_id()
    store.ensure_database(ACCOUNTS_DB)
    store.ensure_database(SERVICES_DB)
    handed: list[str] = []
    follower = ChangesFollower(store, lambda ids: handed.extend(ids) or HandOffDone("b", tuple(ids), (), ()), poll_s=0)
    store.put(SERVICES_DB, {"_id": account, "pvt_type": "service", "plans": {}})
    follower.step()
    assert handed == []
    store.put(ACCOUNTS_DB, account_doc(account, "Newcomer", []))
    follower.step()
    assert handed == [account]
