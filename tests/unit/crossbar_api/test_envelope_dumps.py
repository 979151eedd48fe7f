"""The API's JSON encoder writes every Decimal with its exact digits, whatever surrounds it, and
no text can pass itself off as a number."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from crossbar_api import envelope
from crossbar_api.envelope import dumps

money = st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-(10**12), max_value=10**12)
values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), money, st.text(alphabet=st.sampled_from('a\x00:1é\\"'))),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=4), inner, max_size=4)),
    max_leaves=15,
)


def plain(value):
    """What the text must read back as: Decimals as themselves, tuples as lists."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


@given(values)
def test_what_is_written_reads_back_exactly(value):
    assert json.loads(dumps(value), parse_float=Decimal) == plain(value)  # a Decimal equals its read-back


def test_a_decimal_keeps_its_digits_and_a_forged_marker_stays_text():
    forged = f"\x00{envelope._DECIMAL_TOKEN[:-1]}0:12.5"
    text = dumps({"amount": Decimal("12.50"), "tiny": Decimal("-0.0001"), "note": forged, "n": [Decimal("3")]})
    assert text == '{"amount":12.50,"tiny":-0.0001,"note":' + json.dumps(forged, ensure_ascii=False) + ',"n":[3]}'


def test_keys_the_standard_encoder_refuses_are_written_by_their_text():
    assert dumps({date(2026, 12, 1): Decimal("1.50")}) == '{"2026-12-01":1.50}'
