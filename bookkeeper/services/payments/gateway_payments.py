"""Payment hooks: a gateway's notification in, at most one ledger posting out, and a record of
the attempt whatever happened.

Order matters: the reseller's gateway settings first (a disabled gateway refuses), then the
gateway's own authentication on the raw body (PayPal's postback, YooMoney's SHA-1, the shop's
MD5), then the fields, then the payer account (it must exist and be billed by this reseller),
then the posting, which is idempotent by the gateway's transaction id.

Whatever a body holds, it is judged, never a crash: a value that cannot be read (bad encoding,
too deep, too large, not a number) is refused with 400 and recorded like any other refusal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from urllib.parse import parse_qsl

from bookkeeper.domain.gateways import paypal, yandex_money
from bookkeeper.domain.gateways.amounts import GatewayFieldError
from bookkeeper.domain.gateways.postings import CREDIT, IGNORE, GatewayPosting
from bookkeeper.domain.gateways.settings import GatewaySettings
from bookkeeper.domain.kazoo_names import gregorian_of
from bookkeeper.ports import CardGateway, GatewayUnavailable, IpnVerifier
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.billing.context import BillingInputError, load_context
from bookkeeper.services.payments.gateway_settings import NotAReseller, load_gateway_settings
from bookkeeper.services.payments.hook_attempts import RefusalBudget, record_attempt
from bookkeeper.services.payments.postings import PostingRefused, apply_payment, gateway_debit

log = logging.getLogger("kazbill.hooks")
MAX_FIELDS = 100


@dataclass(frozen=True)
class HookPorts:
    billing: BillingPorts
    ipn_verifier: IpnVerifier
    paypal_verify_urls: tuple[str, str] = (paypal.LIVE_VERIFY_URL, paypal.SANDBOX_VERIFY_URL)  # live, sandbox
    card_gateways: Callable[[GatewaySettings], CardGateway] | None = None  # a reseller's Braintree
    refusal_budget: RefusalBudget = dataclass_field(default_factory=RefusalBudget)


@dataclass(frozen=True)
class HookAnswer:
    status: int  # HTTP status for the gateway
    outcome: str  # credited, debited, duplicate, ignored, checked, refused, forged, unverified
    message: str
    field: str | None = None
    account_id: str | None = None
    posting: GatewayPosting | None = None
    details: dict = dataclass_field(default_factory=dict)
    malformed: bool = False  # the body is not the gateway's form at all (no field of it could be read)


class Refused(Exception):
    """A delivery judged and refused at some step; `shop_code` is the shop protocol's answer code."""

    def __init__(self, answer: HookAnswer, shop_code: int = yandex_money.SHOP_REFUSED):
        super().__init__(answer.message)
        self.answer, self.shop_code = answer, shop_code


class Attempt:
    """One delivery being judged: `judge` runs the gateway's steps, turns a refusal at any step
    into its answer, and records the delivery whatever the outcome."""

    def __init__(
        self, ports: HookPorts, gateway: str, route: str, reseller_id: str, raw_body: bytes, source: str | None = None
    ):
        self.ports, self.gateway, self.route, self.reseller_id, self.raw = ports, gateway, route, reseller_id, raw_body
        self.source = source  # the sender's address; None when handed in-process
        self.fields: dict[str, str] = {}
        self.vouched = False  # set once the gateway's own authentication accepted the body

    def vouch(self) -> None:
        self.vouched = True

    def judge(self, steps: Callable[[Attempt], HookAnswer]) -> HookAnswer:
        return self.judge_with_code(lambda attempt: (steps(attempt), yandex_money.SHOP_OK))[0]

    def judge_with_code(self, steps: Callable[[Attempt], tuple[HookAnswer, int]]) -> tuple[HookAnswer, int]:
        try:
            answer, code = steps(self)
        except Refused as refusal:
            answer, code = refusal.answer, refusal.shop_code
        except GatewayFieldError as error:
            answer, code = HookAnswer(400, "refused", str(error), error.field), yandex_money.SHOP_BAD_REQUEST
        except (ValueError, ArithmeticError, RecursionError) as error:  # a value no step could read
            log.warning("%s %s: a body no step could read", self.gateway, self.route, exc_info=True)
            field = getattr(error, "field", None) or "body"
            answer = HookAnswer(
                400, "refused", f"{field}: cannot be read ({type(error).__name__}: {error})"[:500], field
            )
            code = yandex_money.SHOP_BAD_REQUEST
        return self.finish(answer), code

    def settings(self, kind: str, needed: str | None = None) -> tuple[GatewaySettings, str]:
        """The reseller's settings of this gateway, enabled (and with `needed` set), or Refused."""
        try:
            settings, currency = load_gateway_settings(self.ports.billing.store, self.reseller_id, kind)
        except NotAReseller as error:
            raise Refused(HookAnswer(404, "refused", str(error), "reseller_id")) from None
        except GatewayFieldError as error:
            raise Refused(
                HookAnswer(403 if error.field.endswith(".enabled") else 404, "refused", str(error), error.field)
            ) from None
        if needed and not settings.get(needed):
            raise Refused(
                HookAnswer(404, "refused", f"this reseller has no {needed} for this gateway", f"{kind}.{needed}")
            )
        return settings, currency

    def form(self, charset: str = "utf-8") -> dict[str, str]:
        try:
            self.fields = parse_form(self.raw, charset)
        except GatewayFieldError as error:
            raise Refused(
                HookAnswer(400, "refused", str(error), error.field, malformed=True), yandex_money.SHOP_BAD_REQUEST
            ) from None
        return self.fields

    def finish(self, answer: HookAnswer) -> HookAnswer:
        store, clock = self.ports.billing.store, self.ports.billing.clock
        posting = answer.posting
        record_attempt(
            store,
            gateway=self.gateway,
            route=self.route,
            raw_body=self.raw,
            outcome=answer.outcome,
            message=answer.message,
            field=answer.field,
            reseller_id=self.reseller_id,
            account_id=answer.account_id or (posting.account_id if posting else None),
            external_id=posting.external_id if posting else None,
            fields=self.fields,
            now_gregorian=gregorian_of(clock.now()),
            vouched=self.vouched,
            source=self.source,
            budget=self.ports.refusal_budget,
        )
        return answer


def forged(field: str, message: str, shop_code: int = yandex_money.SHOP_AUTH_FAILED) -> Refused:
    return Refused(HookAnswer(400, "forged", message, field), shop_code)


def parse_form(raw_body: bytes, charset: str) -> dict[str, str]:
    """A form body as one value per field; a repeated field is ambiguous and refused."""
    try:
        pairs = parse_qsl(
            raw_body.decode(charset), keep_blank_values=True, strict_parsing=bool(raw_body), max_num_fields=MAX_FIELDS
        )
    except (LookupError, ValueError) as error:  # a UnicodeError (punycode's is no *Decode*Error) is a ValueError
        raise GatewayFieldError("body", f"not a form in {charset}: {error}"[:300]) from None
    fields: dict[str, str] = {}
    for key, value in pairs:
        if key in fields:
            raise GatewayFieldError(key[:100], "given twice")
        fields[key] = value
    return fields


def payer_billed_by(ports: HookPorts, reseller_id: str, posting: GatewayPosting, account_field: str) -> None:
    """The payer account exists and this reseller bills it (its money went to this reseller), or Refused."""
    try:
        context = load_context(ports.billing.store, posting.account_id)
    except BillingInputError as error:
        raise Refused(
            HookAnswer(400, "refused", f"{account_field}: {error.reason}", account_field, posting=posting)
        ) from None
    if context.reseller_id != reseller_id:
        raise Refused(
            HookAnswer(
                400,
                "refused",
                f"{account_field}: account {posting.account_id} is not billed by reseller {reseller_id}",
                account_field,
                posting=posting,
            )
        )


def settle(
    ports: HookPorts, reseller_id: str, posting: GatewayPosting, account_field: str, description: str
) -> HookAnswer:
    """Post what a genuine notification asks for, once, to an account this reseller bills."""
    if posting.action == IGNORE:
        return HookAnswer(200, "ignored", posting.note, posting=posting)
    try:
        payer_billed_by(ports, reseller_id, posting, account_field)
    except Refused as refusal:
        return refusal.answer
    post: Callable[..., list] = apply_payment if posting.action == CREDIT else gateway_debit
    try:
        events = post(
            ports.billing,
            posting.account_id,
            amount=posting.amount,
            reason=posting.reason,
            external_id=posting.external_id,
            description=f"{description} {posting.external_id}",
        )
    except PostingRefused as refused:
        return HookAnswer(
            409,
            "refused",
            f"the account's billing documents refuse the posting: {refused}",
            refused.field,
            posting=posting,
        )
    first = events[0]
    if first.name == "posting_duplicate":
        return HookAnswer(
            200,
            "duplicate",
            f"{posting.external_id} was posted before; nothing posted again",
            posting=posting,
            details=dict(first.details),
        )
    outcome = "credited" if posting.action == CREDIT else "debited"
    return HookAnswer(
        200,
        outcome,
        f"{outcome} {posting.amount} units ({posting.note})",
        posting=posting,
        details={**first.details, "events": [event.name for event in events[1:]]},
    )


def receive_paypal_ipn(ports: HookPorts, reseller_id: str, raw_body: bytes, source: str | None = None) -> HookAnswer:
    def steps(attempt: Attempt) -> HookAnswer:
        settings, currency = attempt.settings("paypal_config")
        url = ports.paypal_verify_urls[1 if settings.get("sandbox") else 0]
        try:
            verdict = ports.ipn_verifier.verify(url, paypal.VERIFY_PREFIX + raw_body)
        except GatewayUnavailable as error:
            return HookAnswer(503, "unverified", f"{error}; PayPal will send it again")
        if verdict != "VERIFIED":
            raise forged("body", f"PayPal answered {verdict!r:.100}: not a notification it sent")
        attempt.vouch()
        posting = paypal.interpret_ipn(attempt.form(paypal.ipn_charset(raw_body)), settings, currency)
        return settle(ports, reseller_id, posting, "custom", "PayPal")

    return Attempt(ports, "paypal", "paypal", reseller_id, raw_body, source).judge(steps)


def receive_yandex_wallet(ports: HookPorts, reseller_id: str, raw_body: bytes, source: str | None = None) -> HookAnswer:
    def steps(attempt: Attempt) -> HookAnswer:
        settings, _ = attempt.settings("yandex_money_config", needed="wallet")
        if not yandex_money.wallet_signature_valid(attempt.form(), settings.get("notification_secret")):
            raise forged("sha1_hash", "sha1_hash does not match: not signed with this reseller's notification secret")
        attempt.vouch()
        posting = yandex_money.interpret_wallet_notification(attempt.fields, settings)
        return settle(ports, reseller_id, posting, "label", "YooMoney")

    return Attempt(ports, "yandex_money", "notification", reseller_id, raw_body, source).judge(steps)


def receive_yandex_shop(
    ports: HookPorts, reseller_id: str, action: str, raw_body: bytes, source: str | None = None
) -> tuple[HookAnswer, int]:
    """(the answer, the shop protocol's code for the XML reply)."""
    refused_code = yandex_money.SHOP_REFUSED if action == "checkOrder" else yandex_money.SHOP_BAD_REQUEST

    def steps(attempt: Attempt) -> tuple[HookAnswer, int]:
        settings, _ = attempt.settings("yandex_money_config", needed="shop_id")
        if not yandex_money.shop_signature_valid(attempt.form(), settings.get("shop_password")):
            raise forged("md5", "md5 does not match: not signed with this reseller's shop password")
        attempt.vouch()
        try:
            posting = yandex_money.interpret_shop_request(attempt.fields, settings, action)
        except GatewayFieldError as error:
            raise Refused(HookAnswer(400, "refused", str(error), error.field), refused_code) from None
        if action == "checkOrder":  # moves no money: may this account be paid through this shop?
            try:
                payer_billed_by(ports, reseller_id, posting, "customerNumber")
            except Refused as refusal:
                raise Refused(refusal.answer, refused_code) from None
            return HookAnswer(200, "checked", "the account may be paid", posting=posting), yandex_money.SHOP_OK
        answer = settle(ports, reseller_id, posting, "customerNumber", "YooMoney shop")
        return answer, yandex_money.SHOP_OK if answer.status == 200 else refused_code

    return Attempt(ports, "yandex_money", action, reseller_id, raw_body, source).judge_with_code(steps)
