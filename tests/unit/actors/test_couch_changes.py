"""The changes follower on a real embedded store with a recording hand-off: which changes are a
reason to bill, and checkpoints that move only after the shards answered."""
from __future__ import annotations

import pytest

from actors.bridges.couch_changes import CHECKPOINT_ID, ChangesFollower, accounts_changed
from actors.messages import HandOffDone
from actors.system import HandOffUnavailable
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, account_db, account_modb
from bookkeeper.ports import Change
from tests.fixtures.kazoo_docs import account_doc, new_account_id, stamp


def test_only_billing_documents_and_foreign_ledger_entries_are_reasons_to_look():
    account = new_account_id()
    db, modb = account_db(account), account_modb(account, 2026, 3)
    assert accounts_changed(db, [Change("device1", "1", "1-a", doc={"pvt_type": "device"})]) == [account]
    assert accounts_changed(db, [Change("vm1", "2", "1-a", doc={"pvt_type": "vmbox"})]) == []
    assert accounts_changed(db, [Change("gone", "3", "2-a", deleted=True)]) == [account]
    assert accounts_changed(db, [Change("kazbill_standing", "4", "1-a", doc={"pvt_type": "limits"})]) == []
    assert accounts_changed(db, [Change("_design/x", "5", "1-a", doc={})]) == []
    kazoo_credit = {"pvt_type": "ledger", "metadata": {"auth_account_id": account}}
    own_entry = {"pvt_type": "ledger", "metadata": {"kazbill": {"reason": "mrc"}}}
    assert accounts_changed(modb, [Change("202603-credit", "6", "1-a", doc=kazoo_credit)]) == [account]
    assert accounts_changed(modb, [Change("202603-kazbill-mrc", "7", "1-a", doc=own_entry)]) == []
    assert accounts_changed(ACCOUNTS_DB, [Change(account, "8", "1-a", doc={"pvt_type": "account"}),
                                          Change(account, "9", "2-a", doc={"pvt_type": "account"})]) == [account]
    assert accounts_changed("numbers/+7495", [Change("+74951234567", "1", "1-a", doc={})]) == []


@pytest.fixture
def store(tmp_path):
    store = EmbeddedStore(tmp_path / "changes.sqlite3")
    yield store
    store.close()


def seed(store, count: int) -> list[str]:
    store.ensure_database(ACCOUNTS_DB)
    accounts = [new_account_id() for _ in range(count)]
    for account in accounts:
        store.put(ACCOUNTS_DB, account_doc(account, "A", []))
        store.ensure_database(account_db(account))
        store.put(account_db(account), stamp({"_id": "device1", "device_type": "sip_device"}, account, "device"))
    return accounts


def test_every_changed_account_is_handed_off_and_a_second_pass_hands_nothing(store):
    accounts = seed(store, 3)
    handed: list[list[str]] = []
    follower = ChangesFollower(store, lambda ids: handed.append(list(ids)) or HandOffDone("b", tuple(ids), (), ()),
                               poll_s=0)
    follower.step()
    assert sorted({a for batch in handed for a in batch}) == sorted(accounts)
    handed.clear()
    follower.step()
    assert handed == []
    store.put(account_db(accounts[1]), stamp({"_id": "user1", "priv_level": "user"}, accounts[1], "user"))
    follower.step()
    assert handed == [[accounts[1]]]


def test_a_batch_handed_back_leaves_the_checkpoint_where_it_was(store):
    (account,) = seed(store, 1)
    follower = ChangesFollower(store, lambda ids: HandOffDone("b", (), (), tuple(ids)), poll_s=0)
    with pytest.raises(HandOffUnavailable):
        follower.step()
    assert store.get_local(account_db(account), CHECKPOINT_ID) is None and \
        store.get_local(ACCOUNTS_DB, CHECKPOINT_ID) is None
    handed: list[str] = []
    ChangesFollower(store, lambda ids: handed.extend(ids) or HandOffDone("b", tuple(ids), (), ()), poll_s=0).step()
    assert account in handed  # replayed after the outage: nothing lost
