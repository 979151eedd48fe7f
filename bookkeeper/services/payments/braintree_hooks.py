"""Braintree's webhooks: `bt_signature` and `bt_payload`, verified by the SDK with the reseller's
keys. What moves money after a top-up: a dispute opened (the chargeback is debited), a dispute
won (credited back), a settlement declined (the top-up never arrived: debited), and after a
refund, the refund failing (the refund's debit is credited back). Each posts once under the
dispute's or the transaction's id; the account is the one the sale or refund was made for."""

from __future__ import annotations

from bookkeeper.domain.gateways.amounts import gateway_amount
from bookkeeper.domain.gateways.braintree import webhook_parts
from bookkeeper.domain.gateways.postings import CREDIT, DEBIT, GatewayPosting
from bookkeeper.ports import InvalidNotification
from bookkeeper.services.payments.card_payments import sale_account
from bookkeeper.services.payments.gateway_payments import Attempt, HookAnswer, HookPorts, Refused, forged, settle

# kind → (action, ledger reason, whose id keys the posting)
MONEY_KINDS = {
    "dispute_opened": (DEBIT, "braintree_dispute", "notice"),
    "dispute_won": (CREDIT, "braintree_dispute_won", "notice"),
    "transaction_settlement_declined": (DEBIT, "braintree_settlement_declined", "transaction"),
    "refund_failed": (CREDIT, "braintree_refund_failed", "transaction"),
}


def receive_braintree_webhook(
    ports: HookPorts, reseller_id: str, raw_body: bytes, source: str | None = None
) -> HookAnswer:
    def steps(attempt: Attempt) -> HookAnswer:
        settings, currency = attempt.settings("braintree_config")
        signature, payload = webhook_parts(attempt.form())  # GatewayFieldError is judged a refusal
        assert ports.card_gateways is not None, "the hooks need the card gateway factory"
        try:
            notice = ports.card_gateways(settings).parse_notification(signature, payload)
        except InvalidNotification as error:
            raise forged("bt_signature", f"bt_signature: {error}"[:500]) from None
        attempt.vouch()
        if notice.kind not in MONEY_KINDS:
            return HookAnswer(200, "ignored", f"{notice.kind} moves no money here")
        action, reason, keyed_by = MONEY_KINDS[notice.kind]
        expected = "refund" if notice.kind == "refund_failed" else "sale"
        sale = sale_account(ports.billing, notice.transaction_id or "")
        if sale is None or sale.get("reseller_id") != reseller_id or sale.get("kind", "sale") != expected:
            return HookAnswer(
                200,
                "ignored",
                f"transaction {notice.transaction_id} is not a {expected} Kazbill made for this reseller",
            )
        if notice.currency and notice.currency != currency:
            raise Refused(
                HookAnswer(
                    400,
                    "refused",
                    f"currency: {notice.currency} is not the reseller's {currency}",
                    "currency",
                    account_id=sale["account_id"],
                )
            )
        amount = gateway_amount(notice.amount, currency, "amount")
        external = notice.notice_id if keyed_by == "notice" else notice.transaction_id
        posting = GatewayPosting(
            action, reason, sale["account_id"], f"{external}", amount, f"{notice.kind} of {notice.transaction_id}"
        )
        return settle(ports, reseller_id, posting, "transaction_id", "Braintree")

    return Attempt(ports, "braintree", "webhook", reseller_id, raw_body, source).judge(steps)
