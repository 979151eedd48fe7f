"""Invariants of money coming in through the hooks, on the embedded store: whatever the mix of
genuine, duplicated, reordered and forged notifications, the balance is exactly the signed sum
of the distinct genuine money movements, and every delivery is on record."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookkeeper.adapters.clock import SettableClock
from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.domain.gateways import yandex_money
from bookkeeper.ports import ViewQuery
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.billing.ledger_book import LedgerBook
from bookkeeper.services.payments.gateway_payments import HookPorts, receive_paypal_ipn, receive_yandex_wallet
from bookkeeper.services.payments.gateway_settings import save_gateway_settings
from bookkeeper.services.payments.hook_attempts import HOOKS_DB
from testkit.fixtures.api_world import MSK, ApiWorld

pytestmark = pytest.mark.integration

SECRET = "wallet-secret-0123"


class PayPalAnswers:
    """The verification port answering as PayPal would for the bodies it sent (in-process: this
    test is about the ledger's invariants; the HTTP postback has its own integration test)."""

    def __init__(self) -> None:
        self.genuine: set[bytes] = set()

    def verify(self, url: str, body: bytes) -> str:
        return "VERIFIED" if body.removeprefix(b"cmd=_notify-validate&") in self.genuine else "INVALID"


movement = st.tuples(
    st.sampled_from(["paypal", "paypal_refund", "wallet", "forged"]), st.integers(min_value=1, max_value=500_000)
)  # kopecks / cents


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(movements=st.lists(movement, min_size=1, max_size=8), data=st.data())
def test_the_balance_is_the_signed_sum_of_distinct_genuine_movements(tmp_path_factory, movements, data):
    store = EmbeddedStore(tmp_path_factory.mktemp("hooks") / "k.sqlite3")
    world = ApiWorld(store).build()
    reseller, customer = world.ids["reseller"], world.ids["customer_two"]
    save_gateway_settings(store, reseller, "paypal_config", {"enabled": True, "receiver_id": "VOLNA0001"}, 0)
    save_gateway_settings(
        store,
        reseller,
        "yandex_money_config",
        {"enabled": True, "wallet": "41001000040", "notification_secret": SECRET},
        0,
    )
    paypal = PayPalAnswers()
    ports = HookPorts(
        BillingPorts(store, SettableClock(datetime(2026, 11, 10, 12, 0, tzinfo=MSK)), world.world.design_docs), paypal
    )
    deliveries, expected = [], 0
    for n, (kind, minor) in enumerate(movements):
        amount = f"{minor // 100}.{minor % 100:02d}"
        if kind == "wallet":
            fields = {
                "notification_type": "p2p-incoming",
                "operation_id": f"OP{n}",
                "amount": amount,
                "currency": "643",
                "datetime": "2026-11-10T09:00:00Z",
                "sender": "4100",
                "codepro": "false",
                "label": customer,
            }
            fields["sha1_hash"] = yandex_money.wallet_signature(fields, SECRET)
            deliveries.append(("wallet", urlencode(fields).encode()))
            expected += minor * 100
            continue
        refund = kind == "paypal_refund"
        body = urlencode(
            {
                "payment_status": "Refunded" if refund else "Completed",
                "receiver_id": "VOLNA0001",
                "mc_currency": "RUB",
                "mc_gross": f"-{amount}" if refund else amount,
                "txn_id": f"TX{n}",
                "custom": customer,
            }
        ).encode()
        if kind != "forged":
            paypal.genuine.add(body)
            expected += -minor * 100 if refund else minor * 100
        deliveries.append(("paypal", body))
    repeats = data.draw(st.lists(st.sampled_from(deliveries), max_size=10))  # gateways resend, attackers replay
    order = data.draw(st.permutations(deliveries + repeats))
    for gateway, body in order:
        if gateway == "wallet":
            receive_yandex_wallet(ports, reseller, body)
        else:
            receive_paypal_ipn(ports, reseller, body)
    assert LedgerBook(store, world.world.design_docs).balance(customer, (2026, 11), 0) == expected
    recorded = store.query_view(HOOKS_DB, "kazbill_hooks", "by_outcome", ViewQuery(reduce=False)).rows
    assert sum(row.value for row in recorded) == len(order)
    store.close()
