"""The changes follower on a real embedded store with a recording hand-off: which changes are a
reason to bill, and checkpoints that move only after the shards answered."""

from __future__ import annotations

import pytest

from actors.bridges.couch_changes import CHECKPOINT_ID, ChangesFollower, accounts_changed
from actors.messages import HandOffDone
from actors.system import HandOffUnavailable
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, SYSTEM_DB, account_db, account_modb
from bookkeeper.ports import Change, ChangesPage, ViewQuery
from bookkeeper.services.operations.status import UPDATES_CHECKPOINT_ID
from testkit.fixtures.kazoo_docs import account_doc, new_account_id, stamp


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
    assert accounts_changed(
        ACCOUNTS_DB,
        [
            Change(account, "8", "1-a", doc={"pvt_type": "account"}),
            Change(account, "9", "2-a", doc={"pvt_type": "account"}),
        ],
    ) == [account]
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
    follower = ChangesFollower(
        store, lambda ids: handed.append(list(ids)) or HandOffDone("b", tuple(ids), (), ()), poll_s=0
    )
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
    assert (
        store.get_local(account_db(account), CHECKPOINT_ID) is None
        and store.get_local(ACCOUNTS_DB, CHECKPOINT_ID) is None
    )
    handed: list[str] = []
    ChangesFollower(store, lambda ids: handed.extend(ids) or HandOffDone("b", tuple(ids), (), ()), poll_s=0).step()
    assert account in handed  # replayed after the outage: nothing lost


def cdr_doc(account: str, call_id: str, **overrides) -> dict:
    return {
        "_id": f"202603-{call_id}",
        "pvt_type": "cdr",
        "call_id": call_id,
        "billing_seconds": 65,
        "call_direction": "outbound",
        "callee_id_number": "+74951234567",
        "timestamp": 63_911_000_000,
        "custom_channel_vars": {"account_id": account, "resource_id": "carrier-1"},
        **overrides,
    }


def test_the_cdrs_of_carrier_legs_are_handed_off_as_calls_once_and_a_bad_cdr_is_recorded(store):
    from bookkeeper.services.setup.failures import FAILURES_DB

    account = seed(store, 1)[0]
    modb = account_modb(account, 2026, 3)
    store.ensure_database(modb)
    store.bulk_put(
        modb,
        [
            cdr_doc(account, "carrier-leg"),
            cdr_doc(account, "phone-leg", call_direction="inbound", custom_channel_vars={"account_id": account}),
            cdr_doc(account, "unanswered", billing_seconds=0),
            cdr_doc(account, "broken", billing_seconds="a minute"),
            {"_id": "202603-vm", "pvt_type": "vm_message"},
        ],
    )
    handed_calls: list = []
    follower = ChangesFollower(
        store,
        lambda ids: HandOffDone("b", tuple(ids), (), ()),
        poll_s=0,
        hand_off_calls=lambda calls: (
            handed_calls.extend(calls) or HandOffDone("c", tuple(c.account_id for c in calls), (), ())
        ),
        now_gregorian=lambda: 63_911_000_100,
    )
    follower.step()
    assert [(call.call_id, call.number, call.offnet) for call in handed_calls] == [("carrier-leg", "74951234567", True)]
    follower.step()
    assert len(handed_calls) == 1  # the checkpoint moved past them
    failures = [
        row.doc for row in store.all_docs(FAILURES_DB, ViewQuery(include_docs=True)).rows if not row.id.startswith("_")
    ]
    assert [(f["reason_code"], f["field"], f["payload"]["id"]) for f in failures] == [
        ("bad_cdr", "billing_seconds", "202603-broken")
    ]


def test_cdrs_whose_calls_are_handed_back_are_read_again(store):
    account = seed(store, 1)[0]
    modb = account_modb(account, 2026, 3)
    store.ensure_database(modb)
    store.put(modb, cdr_doc(account, "carrier-leg"))
    answers = iter([HandOffDone("c", (), (), (account,)), HandOffDone("c", (account,), (), ())])
    seen: list = []
    follower = ChangesFollower(
        store,
        lambda ids: HandOffDone("b", tuple(ids), (), ()),
        poll_s=0,
        hand_off_calls=lambda calls: seen.extend(calls) or next(answers),
    )
    with pytest.raises(HandOffUnavailable):
        follower.step()
    follower.step()
    assert [call.call_id for call in seen] == ["carrier-leg", "carrier-leg"]


class LaggingCopy:
    """The store as a follower sees it through a CouchDB cluster's balancer: the database is listed
    as changed, but the first read of its feed reaches a copy that has not had the write yet."""

    def __init__(self, store, lagging_db: str):
        self._store, self._lagging, self.reads = store, lagging_db, 0

    def __getattr__(self, name):
        return getattr(self._store, name)

    def changes(self, db, since="0", **options):
        if db == self._lagging:
            self.reads += 1
            if self.reads == 1:
                return ChangesPage([], since)
        return self._store.changes(db, since, **options)


def test_a_database_listed_before_its_feed_shows_the_change_is_looked_at_again_a_little_later(store):
    (account,) = seed(store, 1)
    handed: list[str] = []
    follower = ChangesFollower(store, lambda ids: handed.extend(ids) or HandOffDone("b", tuple(ids), (), ()), poll_s=0)
    follower.step()
    handed.clear()
    store.put(account_db(account), stamp({"_id": "device2", "device_type": "sip_device"}, account, "device"))
    clock = [100.0]
    lagging = LaggingCopy(store, account_db(account))
    follower = ChangesFollower(lagging, follower.hand_off, poll_s=0, monotonic=lambda: clock[0])
    follower.step()
    assert handed == [] and lagging.reads == 1  # listed, nothing new where it was read
    follower.step()
    assert handed == []  # not yet: the second look waits for the copies to agree
    clock[0] += follower.look_again_s
    follower.step()
    assert handed == [account] and lagging.reads == 2
    clock[0] += follower.look_again_s
    follower.step()
    assert handed == [account] and lagging.reads == 2  # once: nothing listed, nothing looked at again


def test_a_follower_told_to_stop_leaves_the_databases_left_to_its_next_run(store):
    """A bridge whose service died stops between databases, not after a long pass over every one
    (on a loaded cluster that outlived the test's 30 s); what it left is listed again."""
    accounts = seed(store, 3)
    handed: list[str] = []
    stop = []
    follower = ChangesFollower(
        store,
        lambda ids: handed.extend(ids) or stop.append(True) or HandOffDone("b", tuple(ids), (), ()),
        poll_s=0,
        stopping=lambda: bool(stop),
    )
    follower.step()
    assert len(handed) == 1 and store.get_local(SYSTEM_DB, follower._checkpoint(UPDATES_CHECKPOINT_ID)) is None
    stop.clear()
    follower.stopping = lambda: False
    follower.step()
    assert set(handed) == set(accounts)
