"""Braintree's webhook form is checked for the shape the SDK assumes before the SDK sees it, so a
malformed signature or payload is a refusal naming its field, never the SDK's crash."""

from __future__ import annotations

import pytest

from bookkeeper.domain.gateways.amounts import GatewayFieldError
from bookkeeper.domain.gateways.braintree import webhook_parts

PAYLOAD = "PG5vdGlmaWNhdGlvbj48L25vdGlmaWNhdGlvbj4=\n"
SIGNATURE = "volna_public|0f067c363408f4ef19f3613b09604733b48042c7"


def test_the_sdks_own_shape_passes_as_it_is():
    assert webhook_parts({"bt_signature": SIGNATURE, "bt_payload": PAYLOAD}) == (SIGNATURE, PAYLOAD)
    two_keys = f"old_public|{'ab' * 20}&{SIGNATURE}"
    assert webhook_parts({"bt_signature": two_keys, "bt_payload": PAYLOAD})[0] == two_keys


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"bt_signature": "pub1|a|b", "bt_payload": PAYLOAD}, "bt_signature"),  # three parts: the SDK's unpacking fails
        ({"bt_signature": "pub1", "bt_payload": PAYLOAD}, "bt_signature"),
        ({"bt_signature": "pub1|not-hex", "bt_payload": PAYLOAD}, "bt_signature"),
        ({"bt_signature": "&".join([SIGNATURE] * 11), "bt_payload": PAYLOAD}, "bt_signature"),
        ({"bt_signature": SIGNATURE, "bt_payload": "PG5vdGlm\u00e9"}, "bt_payload"),  # the SDK's ascii encoding fails
        ({"bt_signature": SIGNATURE, "bt_payload": "<notification/>"}, "bt_payload"),
        ({"bt_signature": SIGNATURE}, "bt_payload"),
        ({"bt_payload": PAYLOAD}, "bt_signature"),
    ],
)
def test_a_malformed_signature_or_payload_is_refused_naming_its_field(fields, field):
    with pytest.raises(GatewayFieldError) as refused:
        webhook_parts(fields)
    assert refused.value.field == field
