"""Gateway amounts, signatures and notifications: worked examples and invariants."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.domain.gateways import paypal, yandex_money
from bookkeeper.domain.gateways.amounts import GatewayFieldError, amount_text, gateway_amount
from bookkeeper.domain.gateways.postings import CREDIT, DEBIT, IGNORE
from bookkeeper.domain.gateways.settings import GatewaySettings, masked, merged_update, parse_gateway_settings

ACCOUNT = "aaaaaaaabbbbbbbbccccccccdddddddd"
PAYPAL = GatewaySettings("paypal_config", {"enabled": True, "receiver_id": "MERCHANT42", "sandbox": False})
YANDEX = GatewaySettings(
    "yandex_money_config",
    {
        "enabled": True,
        "wallet": "41001000040",
        "notification_secret": "01234567890ABCDEF",
        "shop_id": "5432",
        "scid": "777",
        "shop_password": "s3cret-shop-pass",
        "min_amount": 100_000,
        "max_amount": 150_000_000,
    },
)


# ---------------------------------------------------------------- amounts


@pytest.mark.parametrize(
    "text, code, units",
    [
        ("12.50", "RUB", 125_000),
        ("12.5", "EUR", 125_000),
        ("100", "USD", 1_000_000),
        ("0.01", "RUB", 100),
        ("1500", "JPY", 15_000_000),
    ],
)
def test_gateway_amounts_convert_exactly(text, code, units):
    assert gateway_amount(text, code, "amount") == units


@pytest.mark.parametrize("text", ["12.505", "1e3", " 12.50", "12,50", "-5.00", "", "0.00", "NaN", "1" * 13, None, 12.5])
def test_gateway_amounts_that_are_not_money_are_refused_with_the_field(text):
    with pytest.raises(GatewayFieldError) as refused:
        gateway_amount(text, "RUB", "mc_gross")
    assert refused.value.field == "mc_gross"


def test_a_refund_arrives_negative_only_where_signed():
    assert gateway_amount("-12.50", "USD", "mc_gross", signed=True) == -125_000
    with pytest.raises(GatewayFieldError):
        gateway_amount("12.5", "JPY", "amount")  # yen have no fraction


@given(st.integers(min_value=1, max_value=10**12))
def test_amount_text_and_gateway_amount_are_inverse(kopecks):
    units = kopecks * 100
    assert gateway_amount(amount_text(units, "RUB"), "RUB", "sum") == units


def test_amount_text_refuses_what_the_currency_cannot_show():
    with pytest.raises(GatewayFieldError):
        amount_text(125_001, "RUB")


# ---------------------------------------------------------------- PayPal


def ipn(**overrides):
    fields = {
        "payment_status": "Completed",
        "receiver_id": "MERCHANT42",
        "mc_currency": "USD",
        "mc_gross": "25.00",
        "txn_id": "61E67681CH3238416",
        "custom": ACCOUNT,
        "txn_type": "web_accept",
    }
    fields.update(overrides)
    return {key: value for key, value in fields.items() if value is not None}


def test_a_completed_paypal_payment_is_a_credit_under_its_txn_id():
    posting = paypal.interpret_ipn(ipn(), PAYPAL, "USD")
    assert (posting.action, posting.reason, posting.account_id, posting.external_id, posting.amount) == (
        CREDIT,
        "paypal",
        ACCOUNT,
        "61E67681CH3238416",
        250_000,
    )


@pytest.mark.parametrize(
    "status, gross, action, reason",
    [
        ("Refunded", "-25.00", DEBIT, "paypal_refund"),
        ("Reversed", "-25.00", DEBIT, "paypal_reversal"),
        ("Canceled_Reversal", "25.00", CREDIT, "paypal_reversal_cancelled"),
    ],
)
def test_refunds_and_reversals_post_under_their_own_ids(status, gross, action, reason):
    posting = paypal.interpret_ipn(
        ipn(payment_status=status, mc_gross=gross, txn_id="9XR55555", parent_txn_id="61E67681CH3238416"), PAYPAL, "USD"
    )
    assert (posting.action, posting.reason, posting.external_id, posting.amount) == (
        action,
        reason,
        "9XR55555",
        250_000,
    )
    assert "61E67681CH3238416" in posting.note


@pytest.mark.parametrize("status", ["Pending", "Denied", "Failed", None])
def test_statuses_that_move_no_money_post_nothing(status):
    assert paypal.interpret_ipn(ipn(payment_status=status), PAYPAL, "USD").action == IGNORE


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"receiver_id": "SOMEONEELSE"}, "receiver_id"),
        ({"mc_currency": "EUR"}, "mc_currency"),
        ({"custom": "not-an-account"}, "custom"),
        ({"custom": None}, "custom"),
        ({"mc_gross": "25.001"}, "mc_gross"),
        ({"mc_gross": "-25.00"}, "mc_gross"),
        ({"payment_status": "Refunded"}, "mc_gross"),
        ({"txn_id": "x" * 65}, "txn_id"),
        ({"txn_id": "a b"}, "txn_id"),
        ({"test_ipn": "1"}, "test_ipn"),
    ],
)
def test_a_verified_ipn_for_someone_else_or_in_another_currency_is_refused(overrides, field):
    with pytest.raises(GatewayFieldError) as refused:
        paypal.interpret_ipn(ipn(**overrides), PAYPAL, "USD")
    assert refused.value.field == field


def test_the_receiver_email_is_compared_without_case():
    settings = GatewaySettings("paypal_config", {"enabled": True, "receiver_email": "Sales@Volna.example"})
    assert paypal.interpret_ipn(ipn(receiver_email="sales@volna.example"), settings, "USD").action == CREDIT
    with pytest.raises(GatewayFieldError):
        paypal.interpret_ipn(ipn(receiver_email="thief@example.com"), settings, "USD")


def test_the_ipn_charset_is_read_from_the_raw_body():
    assert paypal.ipn_charset(b"mc_gross=1.00&charset=UTF-8&x=1") == "utf-8"
    assert paypal.ipn_charset(b"mc_gross=1.00") == "windows-1252"
    assert paypal.ipn_charset(b"charset=../../etc") == "windows-1252"


# ---------------------------------------------------------------- YooMoney wallet


def wallet(**overrides):
    fields = {
        "notification_type": "p2p-incoming",
        "operation_id": "1234567",
        "amount": "300.00",
        "withdraw_amount": "306.00",
        "currency": "643",
        "datetime": "2026-11-20T12:00:00Z",
        "sender": "41001000040",
        "codepro": "false",
        "label": ACCOUNT,
        "unaccepted": "false",
    }
    fields.update(overrides)
    fields["sha1_hash"] = yandex_money.wallet_signature(fields, "01234567890ABCDEF")
    return fields


def test_the_wallet_signature_is_yoomoneys_sha1_worked_example():
    assert wallet()["sha1_hash"] == "4bf5d675a8a4acb0292bf4e1033d3eca11c75a3d"
    assert yandex_money.wallet_signature_valid(wallet(), "01234567890ABCDEF")
    assert not yandex_money.wallet_signature_valid(wallet(), "another-secret")


@given(st.sampled_from(yandex_money.WALLET_SIGNED + ("label",)), st.text(min_size=1, max_size=12))
def test_changing_any_signed_field_breaks_the_signature(name, junk):
    fields = wallet()
    if fields[name] == junk:
        return
    fields[name] = junk
    assert not yandex_money.wallet_signature_valid(fields, "01234567890ABCDEF")


def test_the_credit_is_the_signed_amount_never_the_unsigned_withdraw_amount():
    fields = wallet()
    fields["withdraw_amount"] = "999999.00"  # not signed: anyone on the path could write it
    assert yandex_money.wallet_signature_valid(fields, "01234567890ABCDEF")
    posting = yandex_money.interpret_wallet_notification(fields, YANDEX)
    assert (posting.action, posting.amount, posting.external_id, posting.account_id) == (
        CREDIT,
        3_000_000,
        "1234567",
        ACCOUNT,
    )


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"codepro": "true"}, "codepro"),
        ({"currency": "840"}, "currency"),
        ({"label": ""}, "label"),
        ({"notification_type": "p2p-outgoing"}, "notification_type"),
        ({"amount": "1.234"}, "amount"),
    ],
)
def test_wallet_notifications_that_cannot_be_credited_name_the_field(overrides, field):
    with pytest.raises(GatewayFieldError) as refused:
        yandex_money.interpret_wallet_notification(wallet(**overrides), YANDEX)
    assert refused.value.field == field


@pytest.mark.parametrize("overrides", [{"unaccepted": "true"}, {"test_notification": "true"}])
def test_frozen_and_test_notifications_post_nothing(overrides):
    assert yandex_money.interpret_wallet_notification(wallet(**overrides), YANDEX).action == IGNORE


# ---------------------------------------------------------------- YooMoney shop protocol


def shop(kind="paymentAviso", **overrides):
    fields = {
        "action": kind,
        "orderSumAmount": "1500.00",
        "orderSumCurrencyPaycash": "643",
        "orderSumBankPaycash": "1001",
        "shopId": "5432",
        "invoiceId": "2000000001",
        "customerNumber": ACCOUNT,
        "shopSumAmount": "1447.50",
    }
    fields.update(overrides)
    fields["md5"] = yandex_money.shop_signature(fields, "s3cret-shop-pass")
    return fields


def test_the_shop_signature_is_the_protocols_md5_worked_example():
    assert shop()["md5"] == "26758A32F1E2ABEC594F63814931EDD2"
    assert yandex_money.shop_signature_valid({**shop(), "md5": shop()["md5"].lower()}, "s3cret-shop-pass")
    assert not yandex_money.shop_signature_valid({**shop(), "orderSumAmount": "15000.00"}, "s3cret-shop-pass")


def test_payment_aviso_credits_the_invoice_and_check_order_moves_nothing():
    aviso = yandex_money.interpret_shop_request(shop(), YANDEX, "paymentAviso")
    assert (aviso.action, aviso.amount, aviso.external_id) == (CREDIT, 15_000_000, "2000000001")
    assert yandex_money.interpret_shop_request(shop("checkOrder"), YANDEX, "checkOrder").action == IGNORE


@pytest.mark.parametrize(
    "overrides, action, field",
    [
        ({"shopId": "1"}, "paymentAviso", "shopId"),
        ({"orderSumCurrencyPaycash": "10643"}, "paymentAviso", "orderSumCurrencyPaycash"),
        ({"orderSumAmount": "5.00"}, "checkOrder", "orderSumAmount"),
        ({"orderSumAmount": "20000.00"}, "checkOrder", "orderSumAmount"),
        ({"action": "checkOrder"}, "paymentAviso", "action"),
        ({"customerNumber": "42"}, "paymentAviso", "customerNumber"),
    ],
)
def test_shop_requests_that_are_not_for_this_shop_or_out_of_limits_are_refused(overrides, action, field):
    with pytest.raises(GatewayFieldError) as refused:
        yandex_money.interpret_shop_request(shop(action, **overrides), YANDEX, action)
    assert refused.value.field == field


def test_the_shop_answer_is_the_protocols_xml():
    from datetime import datetime

    text = yandex_money.shop_answer("paymentAviso", 0, datetime(2026, 11, 20, 9, 0, tzinfo=UTC), shop())
    element = ElementTree.fromstring(text.encode())
    assert element.tag == "paymentAvisoResponse"
    assert element.attrib == {
        "performedDatetime": "2026-11-20T09:00:00.000+00:00",
        "code": "0",
        "invoiceId": "2000000001",
        "shopId": "5432",
    }
    hostile = yandex_money.shop_answer(
        "checkOrder",
        100,
        datetime(2026, 11, 20, tzinfo=UTC),
        {"invoiceId": '"/><x a="', "shopId": "1"},
        "no <way>",
    )
    assert ElementTree.fromstring(hostile.encode()).attrib["invoiceId"] == '"/><x a="'


def test_the_payment_links_carry_the_account_and_the_amount():
    url = yandex_money.wallet_payment_url(YANDEX, ACCOUNT, 5_000_000, "Top-up")
    assert url.startswith(yandex_money.QUICKPAY_URL) and "sum=500.00" in url and f"label={ACCOUNT}" in url
    form = yandex_money.shop_payment_form(YANDEX, ACCOUNT, 5_000_000)
    assert form["fields"] == {"shopId": "5432", "scid": "777", "sum": "500.00", "customerNumber": ACCOUNT}


# ---------------------------------------------------------------- settings


def test_gateway_settings_are_parsed_with_amounts_in_units():
    parsed = parse_gateway_settings(
        "yandex_money_config",
        {
            "enabled": True,
            "wallet": "41001000040",
            "notification_secret": "01234567890ABCDEF",
            "min_amount": "10.00",
            "max_amount": Decimal("15000"),
        },
        "RUB",
    )
    assert (parsed.get("min_amount"), parsed.get("max_amount")) == (100_000, 150_000_000)
    assert parsed.within_limits(50_000) == "is below the minimum of 10"


@pytest.mark.parametrize(
    "kind, doc, currency, field",
    [
        ("paypal_config", {"enabled": True}, "USD", "receiver_id"),
        ("paypal_config", {"enabled": True, "receiver_id": "MERCHANT42", "currency": "EUR"}, "USD", "currency"),
        ("paypal_config", {"enabled": "yes"}, "USD", "enabled"),
        ("paypal_config", {"unknown": 1}, "USD", "unknown"),
        ("yandex_money_config", {"enabled": True, "wallet": "41001000040"}, "RUB", "notification_secret"),
        (
            "yandex_money_config",
            {"enabled": True, "wallet": "41001000040", "notification_secret": "x" * 10},
            "USD",
            "enabled",
        ),
        (
            "yandex_money_config",
            {"shop_id": "1", "shop_password": "p" * 9, "scid": "2", "min_amount": "5", "max_amount": "1"},
            "RUB",
            "max_amount",
        ),
        ("braintree_config", {"enabled": True, "merchant_id": "m", "public_key": "p"}, "USD", "private_key"),
        ("braintree_config", {"environment": "staging"}, "USD", "environment"),
        ("braintree_config", {"min_amount": "0.001"}, "USD", "min_amount"),
    ],
)
def test_gateway_settings_that_cannot_work_are_refused_with_the_field(kind, doc, currency, field):
    with pytest.raises(GatewayFieldError) as refused:
        parse_gateway_settings(kind, doc, currency)
    assert refused.value.field == field


def test_secrets_are_shown_masked_and_a_masked_secret_sent_back_keeps_the_stored_one():
    stored = {
        "_id": "braintree_config",
        "pvt_type": "braintree_config",
        "enabled": True,
        "merchant_id": "m1",
        "public_key": "pub",
        "private_key": "0123456789abcdef",
    }
    shown = masked("braintree_config", stored)
    assert shown == {"enabled": True, "merchant_id": "m1", "public_key": "pub", "private_key": "****cdef"}
    assert merged_update("braintree_config", stored, shown)["private_key"] == "0123456789abcdef"
    assert (
        merged_update("braintree_config", stored, {"private_key": "fedcba9876543210"})["private_key"]
        == "fedcba9876543210"
    )
    assert "merchant_id" not in merged_update("braintree_config", stored, {"merchant_id": None})
