"""Poison on Kazoo's exchanges (issue 20): a body Python cannot read, or reads into values a later
reader would refuse, is a RejectedMessage naming its field, stored once for a person; no parser
of any exchange raises, whatever bytes arrive. On the real RabbitMQ:
tests/integration/test_poison_entrances.py."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actors.bridges.amqp_calls import CallBridge
from actors.bridges.amqp_config import ConfigBridge
from actors.bridges.bookkeeper_messages import StandingRequested, parse_bookkeeper_request, parse_standing_request
from actors.bridges.kazoo_fields import MAX_MESSAGE_BYTES, rejecting
from actors.bridges.poison import store_rejected
from actors.messages import BookkeeperSyncRequested, DocumentChanged, RejectedMessage
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.domain.calls import FinishedCall
from bookkeeper.services.setup.failures import FAILURES_DB
from tests.unit.actors.test_kazoo_messages import (
    ACCOUNT_DB_ENCODED,
    NOW,
    call_destroy,
    doc_update,
    parse_call,
    parse_doc,
    update_req,
)

# Nothing timed: no deadline, and no health check that measures how long generating took.


def standing_req(**overrides) -> tuple[str, bytes]:
    key, body = update_req(Event_Name="standing_req", **overrides)
    return "bookkeepers.standing.request", body


MESSAGES = {  # each exchange's parser with a message it accepts
    "configuration": (parse_doc, doc_update("edited", ACCOUNT_DB_ENCODED, "device", "device1")),
    "callevt": (parse_call, call_destroy()),
    "bookkeepers.update": (parse_bookkeeper_request, update_req()),
    "bookkeepers.standing": (parse_standing_request, standing_req()),
}


def with_raw(body: bytes, field: str, raw: bytes) -> bytes:
    """The message with `field` set to raw JSON text: what Kazoo's peers could send, and Python's
    json could not write."""
    obj = json.loads(body)
    obj.pop(field, None)
    return json.dumps(obj).encode()[:-1] + b', "' + field.encode() + b'": ' + raw + b"}"


POISON = [  # (raw value, the code, whether the field is named)
    (b'{"a":' * 1200 + b"1" + b"}" * 1200, "too_deep", False),  # Python's json gives up: the body's
    (b"[" * 150 + b"]" * 150, "too_deep", True),  # readable, yet deeper than any reader should walk
    (b'"\\ud800"', "invalid_text", True),
    (b'"caf\\udce9"', "invalid_text", True),
    (b"1e999999", "invalid_number", True),
    (b"NaN", "malformed_json", False),
    (b"-Infinity", "malformed_json", False),
    (b"9" * 5000, "malformed_json", False),
    (b'"\xff\xfe"', "malformed_json", False),
    (b'"' + b"x" * MAX_MESSAGE_BYTES + b'"', "oversized", False),
]


@pytest.fixture(scope="module")
def failures_store(tmp_path_factory):
    store = EmbeddedStore(tmp_path_factory.mktemp("amqp-poison") / "failures.sqlite3")
    yield store
    store.close()


@pytest.mark.parametrize("exchange", sorted(MESSAGES))
@pytest.mark.parametrize("raw, code, named", POISON, ids=[code + str(n) for n, (_, code, _) in enumerate(POISON)])
def test_a_body_no_reader_could_take_is_rejected_naming_why_and_stored_once(failures_store, exchange, raw, code, named):
    parse, (routing_key, body) = MESSAGES[exchange]
    assert not isinstance(parse(routing_key, body), RejectedMessage)  # the message as it was sent is fine
    rejected = parse(routing_key, with_raw(body, "Msg-ID", raw))
    assert isinstance(rejected, RejectedMessage), rejected
    assert (rejected.reason_code, rejected.field) == (code, "Msg-ID" if named else "body"), rejected.reason
    first = store_rejected(failures_store, rejected, NOW)
    assert store_rejected(failures_store, rejected, NOW) == first  # redelivered: the same record
    stored = failures_store.get(FAILURES_DB, first)
    assert (stored["reason_code"], stored["payload"]["routing_key"]) == (code, routing_key)


def test_whatever_a_parser_raises_is_a_rejection_not_a_crash():
    @rejecting
    def broken(routing_key: str, body: bytes):
        return {}["Account-ID"]

    rejected = broken("doc_edited.x.device.y", b"{}")
    assert (rejected.reason_code, rejected.field) == ("unparseable", "body") and "KeyError" in rejected.reason


def test_a_bridge_whose_parser_raises_rejects_the_message_instead():
    bridge = CallBridge("amqp://unused", lambda items: None, lambda rejected: None, lambda: NOW)
    bridge.parse = lambda routing_key, body, received: 1 / 0  # type: ignore[method-assign]
    rejected = bridge._parsed(*call_destroy(), NOW)
    assert (rejected.reason_code, rejected.field) == ("unparseable", "body") and "ZeroDivisionError" in rejected.reason


# --- fuzzing: whatever bytes arrive, each exchange's parser answers -----------------------------

poison_raw = st.one_of(
    st.sampled_from([raw for raw, _, _ in POISON if len(raw) < 20_000]),
    st.integers(0, 3000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.integers(0, 3000).map(lambda depth: b'{"x":' * depth + b"null" + b"}" * depth),
    st.sampled_from(
        [
            b'"\\udfff"',
            b'"\\u0000"',
            b"-0.0e-99999",
            b"1e308",
            b"-1e309",
            b"1" + b"0" * 400,
            b"true",
            b"null",
            b'""',
            b"{}",
            b"[]",
            b'"' + b"\\ud83d" * 3 + b'"',
            b'"\xed\xa0\x80"',
            b'"\xc3"',
        ]
    ),
    st.text(max_size=40).map(lambda text: json.dumps(text).encode()),
    st.binary(max_size=40).map(lambda data: b'"' + data + b'"'),
)
fragments = st.sampled_from(
    [
        b"{",
        b"}",
        b"[",
        b"]",
        b",",
        b":",
        b'"',
        b'"Account-ID"',
        b'"ID"',
        b'"Billing-Seconds"',
        b'"Msg-ID"',
        b'"Custom-Channel-Vars"',
        b"1e999999",
        b"NaN",
        b"Infinity",
        b"\\ud800",
        b"\\u",
        b"\xff",
        b"\xed\xa0\x80",
        b"null",
        b"true",
        b"0",
        b"-",
        b"e",
        b" ",
        b"\x00",
        b"\xef\xbb\xbf",
    ]
)
junk = st.lists(fragments, max_size=40).map(b"".join)
HEADERS = [
    "Account-ID",
    "ID",
    "Database",
    "Type",
    "Event-Name",
    "Is-Soft-Deleted",
    "Call-ID",
    "Billing-Seconds",
    "Timestamp",
    "Custom-Channel-Vars",
    "Call-Direction",
    "Msg-ID",
    "Server-ID",
    "Bookkeeper-Type",
    "Dry-Run",
]
CONFIG = ConfigBridge("amqp://unused", lambda items: None, lambda rejected: None, lambda: NOW)
CALLS = CallBridge("amqp://unused", lambda items: None, lambda rejected: None, lambda: NOW)
ANSWERS = {  # what each exchange's bridge reads a message with, and what it may answer
    "configuration": (lambda key, body: CONFIG.parse(key, body, NOW), (DocumentChanged,)),
    "callevt": (lambda key, body: CALLS.parse(key, body, NOW), (FinishedCall,)),
    "bookkeepers.update": (parse_bookkeeper_request, (BookkeeperSyncRequested,)),
    "bookkeepers.standing": (parse_standing_request, (StandingRequested,)),
}


@st.composite
def poisoned_messages(draw) -> tuple[str, str, bytes]:
    exchange = draw(st.sampled_from(sorted(MESSAGES)))
    routing_key, body = MESSAGES[exchange][1]
    how = draw(st.sampled_from(["header", "junk", "bytes"]))
    if how == "header":
        body = with_raw(body, draw(st.sampled_from(HEADERS)), draw(poison_raw))
    elif how == "junk":
        body = draw(junk)
    else:
        body = draw(st.binary(max_size=300))
    return exchange, routing_key, body


@settings(max_examples=500)
@given(poisoned_messages())
def test_no_body_makes_any_exchanges_parser_raise_and_every_rejection_can_be_stored(failures_store, message):
    exchange, routing_key, body = message
    parse, accepted = ANSWERS[exchange]
    result = parse(routing_key, body)
    assert result is None or isinstance(result, (RejectedMessage, *accepted)), result
    if isinstance(result, RejectedMessage):
        doc_id = store_rejected(failures_store, result, NOW)
        assert failures_store.get(FAILURES_DB, doc_id)["reason_code"] == result.reason_code
