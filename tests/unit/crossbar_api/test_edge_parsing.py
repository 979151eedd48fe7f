"""The edge that parses every request: the body reader (envelope.py), the values read from query
strings and bodies (fields.py), and the error handlers that answer in crossbar's shape whatever
reaches them (errors.py)."""

from __future__ import annotations

import decimal
import json
from decimal import Decimal

import falcon
import pytest
from falcon import testing
from hypothesis import given, settings
from hypothesis import strategies as st

from bookkeeper import come_back_later
from bookkeeper.ports import Conflict, InvalidDocument, StoreUnavailable
from crossbar_api import errors
from crossbar_api.envelope import MAX_DEPTH, parse_body
from crossbar_api.errors import ApiError
from crossbar_api.fields import amount_units, day, document_numbers, gregorian, page_position, whole


def refusal(call) -> dict:
    with pytest.raises(ApiError) as raised:
        call()
    assert raised.value.status == 400
    return raised.value.data


def test_numbers_are_read_as_exact_decimals_and_whole_numbers_as_ints():
    body = parse_body(b'{"data": {"amount": 1500.25, "days": 3, "rate": 1E+2, "tiny": 0.0001}}')["data"]
    assert body == {"amount": Decimal("1500.25"), "days": 3, "rate": Decimal("100"), "tiny": Decimal("0.0001")}
    assert isinstance(body["days"], int) and isinstance(body["amount"], Decimal)


@pytest.mark.parametrize(
    "literal",
    ["1e999999", "-1e999999", "1e-999999", "1e21", "1e-21", "9" * 21, "1." + "0" * 20 + "1", "0e-999999", "1" * 5000],
)
def test_a_number_beyond_exact_arithmetic_is_refused_naming_its_field(literal):
    assert "items[1].rate" in refusal(
        lambda: parse_body(f'{{"data": {{"items": [{{}}, {{"rate": {literal}}}]}}}}'.encode())
    )


def test_depth_is_counted_before_parsing_and_brackets_inside_strings_do_not_count():
    at_limit = '{"data": ' + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "}"
    assert parse_body(at_limit.encode())["data"] is not None
    over = '{"data": ' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "}"
    assert refusal(lambda: parse_body(over.encode()))["data"]["depth"]
    text = '{"data": {"note": "' + '[{\\"' * 10_000 + '"}}'
    assert parse_body(text.encode())["data"]["note"].startswith('[{"')
    assert refusal(lambda: parse_body(("[" * 1_000_000).encode()))["data"]["depth"]


@pytest.mark.parametrize(
    "raw, rule",
    [
        (b"", "required"),
        (b"  \n", "required"),
        (b"\xff\xfe{}", "encoding"),
        (b'{"data": {"a": "\xed\xa0\x80"}}', "encoding"),
        (b'{"data": {"a": Infinity}}', "json"),
        (b'{"data": {"a": 1,}}', "json"),
        (b"\xef\xbb\xbf{}", "json"),
    ],
)
def test_a_body_that_is_not_utf8_json_is_refused_as_data(raw, rule):
    assert rule in refusal(lambda: parse_body(raw))["data"]


@given(st.binary(max_size=300) | st.text(max_size=300).map(lambda text: text.encode("utf-8", "surrogatepass")))
@settings(max_examples=300, deadline=None, database=None)
def test_any_bytes_are_parsed_or_refused_with_a_400_never_anything_else(raw):
    try:
        parse_body(raw)
    except ApiError as error:
        assert error.status == 400 and error.data


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | st.decimals(allow_nan=False, allow_infinity=False).map(str),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)


@given(json_values)
@settings(max_examples=300, deadline=None, database=None)
def test_any_json_text_is_parsed_or_refused_with_a_400(value):
    try:
        parse_body(json.dumps({"data": value}).encode("utf-8", "surrogatepass"))
    except ApiError as error:
        assert error.status == 400 and error.data


@pytest.mark.parametrize("raw", ["²", "٣", "1²", "", "-1", "+1", " 1", "1.0", "1e3", "9" * 19])
def test_whole_numbers_are_ascii_digits_of_bounded_length(raw):
    assert "page_size" in refusal(lambda: whole(raw, "page_size", 1, 10**30))


def test_gregorian_seconds_and_days_stay_inside_what_a_calendar_names():
    assert gregorian("63900000000", "created_to") == 63_900_000_000
    for raw in ("1", "0", "315537983999" + "0", "9" * 30):
        assert "created_to" in refusal(lambda raw=raw: gregorian(raw, "created_to"))
    assert day("2026-11-10", "start").isoformat() == "2026-11-10"
    for value in (
        "9999-12-31",
        "0001-01-01",
        "2026-02-30",
        "20261110",
        "2026-W45-2",
        20261110,
        None,
        "２０２６-１１-１０",
    ):
        assert "start" in refusal(lambda value=value: day(value, "start"))
    assert page_position("63900000000:abc") == (63_900_000_000, "abc")
    for raw in ("²:x", "1:", ":x", "9" * 19 + ":x"):
        assert "start_key" in refusal(lambda raw=raw: page_position(raw))


def test_amounts_are_units_exactly_or_refused_never_rounded():
    assert amount_units(Decimal("1500.25"), "amount") == 15_002_500
    assert amount_units(0, "limit", zero_allowed=True) == 0
    for value, rule in [
        (Decimal("1.00001"), "precision"),
        (Decimal("1E+12"), "maximum"),
        (-1, "minimum"),
        (0, "minimum"),
        (True, "type"),
        ("12.5", "type"),
        (1.5, "type"),
        (Decimal("1." + "0" * 40 + "1"), "precision"),
    ]:
        assert rule in refusal(lambda value=value: amount_units(value, "amount"))["amount"]


def test_a_fraction_is_stored_as_the_json_number_sent_or_refused():
    assert document_numbers({"a": [Decimal("20.5"), 3]}, "x") == {"a": [20.5, 3]}
    assert "x.a[0]" in refusal(lambda: document_numbers({"a": [Decimal("0.1000000000000000055")]}, "x"))


class Raising:
    def __init__(self, error: Exception):
        self.error = error

    def on_get(self, req, resp):
        raise self.error


@pytest.fixture
def raising():
    def call(error: Exception, path: str = "/x"):
        app = falcon.App()
        errors.install(app)
        app.add_route(path, Raising(error))
        return testing.TestClient(app).simulate_get(path)

    return call


@pytest.mark.parametrize(
    "error",
    [
        RecursionError("maximum recursion depth exceeded"),
        decimal.Overflow(),
        decimal.InvalidOperation(),
        UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
        OverflowError("date value out of range"),
    ],
)
def test_a_parsing_error_that_slips_past_the_edge_is_a_400_not_a_crash(raising, error):
    result = raising(error)
    assert result.status_code == 400 and result.json["error"] == "400" and "data" in result.json["data"]
    assert "Traceback" not in result.text


def test_store_unavailability_is_503_with_retry_after_in_one_place(raising):
    result = raising(StoreUnavailable("/var/lib/kazbill/store.sqlite3", "database is locked"))
    assert result.status_code == 503 and result.json["error"] == "503" and "store" in result.json["data"]
    assert int(result.headers["Retry-After"]) == come_back_later.RETRY_AFTER_S and "/var/lib" not in result.text


def test_the_payments_page_tells_a_browser_to_come_back_in_a_page_not_in_json(raising):
    result = raising(StoreUnavailable("/var/lib/kazbill/store.sqlite3", "database is locked"), "/portal/accounts/x")
    assert result.status_code == 503 and result.headers["content-type"].startswith("text/html")
    assert int(result.headers["Retry-After"]) == come_back_later.RETRY_AFTER_S
    assert come_back_later.MESSAGE_RU in result.text and come_back_later.MESSAGE in result.text
    assert "/var/lib" not in result.text


def test_a_document_the_store_refuses_is_400_naming_its_field_even_an_unprintable_one(raising):
    result = raising(InvalidDocument("account/x", "metadata.\ud800", "nested deeper than 64 levels"))
    assert result.status_code == 400 and "metadata.?" in result.json["data"]


def test_a_write_someone_else_made_first_is_409_not_a_server_fault(raising):
    # e.g. a template uploaded while another upload of it was being written
    result = raising(Conflict("kazbill_templates", "carrier-1-invoice"))
    assert result.status_code == 409 and result.json["error"] == "409" and "document" in result.json["data"]
    assert "kazbill_templates" not in result.text


def test_anything_else_is_a_500_in_crossbars_shape_without_a_trace(raising):
    result = raising(KeyError("secret_internal_name"))
    assert result.status_code == 500 and result.json["message"] == "internal server error"
    assert "secret_internal_name" not in result.text and "Traceback" not in result.text
