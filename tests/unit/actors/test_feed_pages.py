"""The changes feed against poison documents (issue 20): whatever a document holds, the feed
records it once, moves its checkpoint past it and goes on with the others.

The store here is the embedded one answering as the CouchDB adapter does: each answer is JSON text
decoded whole by Python's json, and CouchDB keeps JSON that Python cannot read (nested 1,200 levels
deep, an integer of 5,000 digits) or reads into values later readers refuse (1e999999, NaN, a
lone surrogate). The same documents on the real CouchDB-compatible server: tests/integration/
test_poison_entrances.py."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actors.bridges.couch_changes import CHECKPOINT_ID, ChangesFollower
from actors.bridges.feed_pages import read_page, sort_page
from actors.bridges.wire_json import MAX_DEPTH
from actors.messages import HandOffDone
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, account_db, account_modb
from bookkeeper.ports import Change, ChangesPage, ViewQuery
from bookkeeper.services.setup.failures import FAILURES_DB, record_failure
from testkit.fixtures.kazoo_docs import new_account_id
from tests.unit.actors.test_couch_changes import seed

# Nothing timed: no deadline, and no health check that measures how long generating took.


def nested_text(depth: int) -> str:
    return '{"next":' * depth + "1" + "}" * depth


def nested_value(depth: int) -> dict:
    value: dict = {"end": 1}
    for _ in range(depth):
        value = {"next": value}
    return value


class CouchLikeStore(EmbeddedStore):
    """Documents given as text are served as that text, inside an answer decoded whole."""

    def __init__(self, path):
        super().__init__(path)
        self.texts: dict[tuple[str, str], str] = {}

    def put_text(self, db: str, doc_id: str, pvt_type: str, fields: str) -> None:
        self.put(db, {"_id": doc_id, "pvt_type": pvt_type})  # for the feed to list it
        self.texts[(db, doc_id)] = f'{{"_id": {json.dumps(doc_id)}, "pvt_type": "{pvt_type}", {fields}}}'

    def _text(self, db: str, doc_id: str, doc) -> str:
        return self.texts.get((db, doc_id)) or json.dumps(doc)

    def changes(self, db, since="0", *, limit=None, include_docs=False, timeout_s=None):
        page = super().changes(db, since, limit=limit, include_docs=include_docs, timeout_s=timeout_s)
        if not include_docs:
            return page
        answer = ",".join(self._text(db, change.id, change.doc) for change in page.changes)
        docs = json.loads(f'{{"results": [{answer}]}}')["results"]
        return ChangesPage(
            [replace(change, doc=doc) for change, doc in zip(page.changes, docs, strict=True)], page.last_seq
        )

    def get_many(self, db, doc_ids):
        found = super().get_many(db, doc_ids)
        return json.loads(
            "{"
            + ",".join(f"{json.dumps(doc_id)}: {self._text(db, doc_id, doc)}" for doc_id, doc in found.items())
            + "}"
        )


@pytest.fixture
def store(tmp_path):
    store = CouchLikeStore(tmp_path / "poison.sqlite3")
    yield store
    store.close()


def recorded(store) -> list[dict]:
    return [
        row.doc
        for row in store.all_docs(FAILURES_DB, ViewQuery(include_docs=True)).rows
        if row.doc and row.doc.get("pvt_type") == "failure"
    ]


POISON = [  # (document id, its fields as JSON text, the code recorded, the field named)
    ("device-deep", f'"provision": {nested_text(1200)}', "unreadable_document", "doc"),
    ("device-digits", f'"ring_timeout": {"9" * 5000}', "unreadable_document", "doc"),
    ("device-infinite", '"ring_timeout": 1e999999', "invalid_number", "ring_timeout"),
    ("device-nan", '"media": {"audio": {"codecs": [NaN]}}', "invalid_number", "media.audio.codecs[0]"),
    ("device-surrogate", '"name": "desk \\ud800"', "invalid_text", "name"),
    ("device-too-deep", f'"provision": {nested_text(MAX_DEPTH + 5)}', "too_deep", "provision"),
]


def test_poison_documents_are_recorded_once_and_passed_and_the_documents_after_them_are_handed_off(store):
    poisoned, healthy = seed(store, 2)
    for doc_id, fields, _, _ in POISON:
        store.put_text(account_db(poisoned), doc_id, "device", fields)
    store.put_text(account_db(poisoned), "callflow-deep", "callflow", f'"flow": {nested_text(1200)}')
    store.put(account_db(poisoned), {"_id": "user-after", "pvt_type": "user"})
    store.put(account_db(healthy), {"_id": "user-after", "pvt_type": "user"})
    handed: list[str] = []
    follower = ChangesFollower(
        store,
        lambda ids: handed.extend(ids) or HandOffDone("b", tuple(ids), (), ()),
        poll_s=0,
        now_gregorian=lambda: 63_911_000_000,
    )
    follower.step()
    assert set(handed) == {poisoned, healthy}
    failures = {f["payload"]["id"]: (f["reason_code"], f["field"], f["account_id"]) for f in recorded(store)}
    expected = {doc_id: (code, field, poisoned) for doc_id, _, code, field in POISON}
    # Unreadable, a callflow is recorded too: what it was cannot be told without reading it.
    assert failures == {**expected, "callflow-deep": ("unreadable_document", "doc", poisoned)}
    db = account_db(poisoned)
    assert store.changes(db, store.get_local(db, CHECKPOINT_ID)["seq"]).changes == []
    handed.clear()
    follower.step()
    assert handed == [] and len(recorded(store)) == len(POISON) + 1


def test_a_bad_cdr_and_a_poison_one_are_recorded_and_the_carrier_leg_next_to_them_is_rated(store):
    account = seed(store, 1)[0]
    modb = account_modb(account, 2026, 3)
    store.ensure_database(modb)
    good = {
        "_id": "202603-good",
        "pvt_type": "cdr",
        "call_id": "good",
        "billing_seconds": 65,
        "call_direction": "outbound",
        "callee_id_number": "+74951234567",
        "timestamp": 63_911_000_000,
        "custom_channel_vars": {"account_id": account, "resource_id": "carrier-1"},
    }
    store.put_text(modb, "202603-deep", "cdr", f'"custom_channel_vars": {nested_text(1200)}')
    store.put_text(modb, "202603-nan", "cdr", '"billing_seconds": NaN, "call_id": "nan"')
    store.put(modb, good)
    calls: list = []
    follower = ChangesFollower(
        store,
        lambda ids: HandOffDone("b", tuple(ids), (), ()),
        poll_s=0,
        hand_off_calls=lambda found: calls.extend(found) or HandOffDone("c", (), (), ()),
        now_gregorian=lambda: 63_911_000_100,
    )
    follower.step()
    assert [call.call_id for call in calls] == ["good"]
    assert sorted((f["payload"]["id"], f["reason_code"]) for f in recorded(store)) == [
        ("202603-deep", "unreadable_document"),
        ("202603-nan", "invalid_number"),
    ]


# --- whatever a document holds, sorting a page answers -------------------------------------------

poison_values = st.one_of(
    st.integers(0, 1500).map(nested_value),
    st.sampled_from(
        [
            float("inf"),
            float("-inf"),
            float("nan"),
            10**5000,
            -(10**400),
            "\ud800",
            "a\udfffb",
            "x" * 100_000,
            {"\udc80": 1},
            [[[[]]]],
            True,
            None,
        ]
    ),
    st.text(max_size=30),
    st.integers(),
    st.floats(),
)
doc_fields = st.sampled_from(
    [
        "pvt_type",
        "metadata",
        "device_type",
        "enabled",
        "pvt_deleted",
        "call_id",
        "billing_seconds",
        "custom_channel_vars",
        "timestamp",
        "call_direction",
        "name",
    ]
)
doc_types = st.sampled_from(["device", "user", "limits", "ledger", "cdr", "callflow", "account", "service"])
documents = st.builds(
    lambda doc_type, extra: {"pvt_type": doc_type, **extra},
    doc_types,
    st.dictionaries(doc_fields, poison_values, max_size=4),
)
ACCOUNT = new_account_id()
DATABASES = [account_db(ACCOUNT), account_modb(ACCOUNT, 2026, 3), ACCOUNTS_DB, "services", "system_config"]


@settings(max_examples=300)
@given(
    st.sampled_from(DATABASES),
    st.lists(
        st.tuples(st.sampled_from(["dev1", ACCOUNT, "_design/x", "kazbill_x"]), st.booleans(), documents), max_size=6
    ),
)
def test_sorting_a_page_never_raises_and_every_billing_document_is_handed_off_or_refused(db, rows):
    changes = [
        Change(doc_id, str(n), "1-a", deleted, None if deleted else doc)
        for n, (doc_id, deleted, doc) in enumerate(rows)
    ]
    page = sort_page(db, changes, calls_too=True)
    for rejection in page.rejected:  # stored as they are: valid Unicode, or the store would refuse them
        rejection.reason.encode("utf-8"), rejection.field.encode("utf-8")
    assert set(page.accounts) <= {ACCOUNT}
    assert all(call.account_id for call in page.calls)
    refused = {rejection.doc_id for rejection in page.rejected}
    for change in changes:
        if (
            change.doc
            and change.doc.get("pvt_type") == "device"
            and db == account_db(ACCOUNT)
            and not change.id.startswith(("_design/", "kazbill_"))
        ):
            assert ACCOUNT in page.accounts or change.id in refused


@pytest.fixture(scope="module")
def failures_store(tmp_path_factory):
    store = EmbeddedStore(tmp_path_factory.mktemp("failures") / "failures.sqlite3")
    yield store
    store.close()


@settings(max_examples=200)
@given(value=poison_values)
def test_any_value_whatsoever_can_be_recorded_as_a_failure(failures_store, value):
    store = failures_store
    doc_id = record_failure(
        store,
        source="test",
        reason_code="poison",
        reason=type(value).__name__,
        payload={"v": value},
        account_id=None,
        now_gregorian=1,
        field="\ud800",
    )
    kept = store.get(FAILURES_DB, doc_id)
    assert kept["reason_code"] == "poison" and json.dumps(kept, allow_nan=False)
    if isinstance(value, float) and math.isfinite(value):
        assert kept["payload"]["v"] == value


# --- whatever JSON text the server keeps, reading and sorting a page answers -----------------------


class TextFeed:
    """A database's feed as the server's JSON text: each answer decoded whole, as the adapter does."""

    def __init__(self, texts: list[tuple[str, str]]):
        self.texts = dict(texts)

    def changes(self, db, since="0", *, limit=None, include_docs=False, timeout_s=None):
        rows = [Change(doc_id, str(n), "1-a") for n, doc_id in enumerate(self.texts, 1)]
        if include_docs:
            docs = json.loads("[" + ",".join(self.texts.values()) + "]")
            rows = [replace(row, doc=doc) for row, doc in zip(rows, docs, strict=True)]
        return ChangesPage(rows, str(len(rows)))

    def get_many(self, db, doc_ids):
        return json.loads("{" + ",".join(f"{json.dumps(i)}: {self.texts[i]}" for i in doc_ids) + "}")


leaf_texts = st.one_of(
    st.sampled_from(
        [
            "null",
            "true",
            "0",
            "-0",
            "1.5",
            "1e999999",
            "-1e400",
            "9" * 5000,
            '"\\ud800"',
            '"\\udfff"',
            '"\\u0000"',
            '"sip_device"',
            '"device"',
        ]
    ),
    st.text(max_size=10).map(json.dumps),
)
json_texts = st.recursive(
    leaf_texts,
    lambda children: st.one_of(
        st.lists(children, max_size=3).map(lambda items: "[" + ",".join(items) + "]"),
        st.dictionaries(doc_fields, children, max_size=3).map(
            lambda members: "{" + ",".join(f"{json.dumps(key)}: {value}" for key, value in members.items()) + "}"
        ),
    ),
    max_leaves=10,
)
value_texts = st.one_of(json_texts, st.integers(0, 2000).map(lambda depth: "[" * depth + "]" * depth))
doc_texts = st.builds(
    lambda doc_type, fields: (
        "{"
        + f'"pvt_type": {json.dumps(doc_type)}'
        + "".join(f", {json.dumps(key)}: {value}" for key, value in fields.items())
        + "}"
    ),
    doc_types,
    st.dictionaries(doc_fields.filter(lambda name: name != "pvt_type"), value_texts, max_size=4),
)


def python_reads(text: str):
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


@settings(max_examples=200)
@given(st.sampled_from(DATABASES[:2]), st.lists(doc_texts, min_size=1, max_size=8))
def test_any_json_the_server_keeps_is_read_and_sorted_or_refused_by_name_and_never_raises(db, texts):
    feed = TextFeed([(f"doc{n}", text) for n, text in enumerate(texts)])
    page, unreadable = read_page(feed, db, "0", 100)  # type: ignore[arg-type]
    sorted_page = sort_page(db, page.changes, calls_too=True)
    assert page.last_seq == str(len(texts))  # the checkpoint moves past every document, read or not
    refused = {rejection.doc_id: rejection.reason_code for rejection in unreadable + sorted_page.rejected}
    for doc_id, text in feed.texts.items():
        doc = python_reads(text)
        if doc is None:
            assert refused[doc_id] == "unreadable_document"
        elif doc.get("pvt_type") in ("device", "user", "limits") and doc_id not in refused:
            assert ACCOUNT in sorted_page.accounts
