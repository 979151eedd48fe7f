"""Billing settings read from Kazoo-shaped documents, as a reseller and an operator would set them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.domain.settings import (
    ACCOUNT_ONBILL_KEYS,
    DEFAULT_CANCELLABLE,
    RESELLER_ONBILL_KEYS,
    ResellerSettings,
    SettingsError,
    account_settings,
    credit_line,
    master_of,
    reseller_of,
    reseller_settings,
    reserve_amount,
)

MASTER = "m" * 32
RESELLER = "r" * 32
SUB_RESELLER = "s" * 32
CUSTOMER = "c" * 32
RUB = 10_000  # units per rouble
CREATED = 63_870_000_000  # Gregorian seconds, early 2024


def onbill(**keys) -> dict:
    return {"_id": "onbill", "pvt_type": "onbill", **keys}


# ----------------------------------------------------------------------------- reseller settings


def test_a_reseller_and_master_that_set_nothing_get_the_built_in_defaults():
    settings = reseller_settings(RESELLER, None, None)
    assert settings == ResellerSettings(RESELLER)
    assert (settings.currency, settings.timezone, settings.locale, settings.default_billing_day) == (
        "USD",
        "UTC",
        "en_US",
        1,
    )
    assert settings.cancellable == DEFAULT_CANCELLABLE
    assert (settings.prorate_new_accounts, settings.prorated_credits, settings.blocking_enabled) == (True, False, False)
    assert (settings.vat_disposition, settings.vat_rate, settings.low_balance_threshold) == ("none", Decimal(0), None)


def test_a_reseller_that_sets_nothing_inherits_every_key_the_master_set():
    master = onbill(
        currency="RUB",
        timezone="Europe/Moscow",
        locale="ru_RU",
        blocking_enabled=True,
        new_account_grace_days=3,
        vat_disposition="brutto",
        vat_rate=20,
    )
    settings = reseller_settings(RESELLER, onbill(), master)
    assert (settings.currency, settings.timezone, settings.locale) == ("RUB", "Europe/Moscow", "ru_RU")
    assert (settings.blocking_enabled, settings.new_account_grace_days) == (True, 3)
    assert (settings.vat_disposition, settings.vat_rate) == ("brutto", Decimal(20))


def test_a_reseller_overriding_only_its_currency_keeps_the_masters_time_zone():
    master = onbill(currency="RUB", timezone="Europe/Moscow")
    settings = reseller_settings(RESELLER, onbill(currency="EUR"), master)
    assert (settings.currency, settings.timezone) == ("EUR", "Europe/Moscow")


def test_a_null_key_counts_as_unset_and_falls_back_to_the_master():
    settings = reseller_settings(RESELLER, onbill(timezone=None), onbill(timezone="Asia/Almaty"))
    assert settings.timezone == "Asia/Almaty"


def test_currency_codes_are_stored_as_iso_codes():
    assert reseller_settings(RESELLER, onbill(currency="rub"), None).currency == "RUB"


def test_charging_schemes_are_per_category_and_unlisted_categories_are_monthly():
    settings = reseller_settings(RESELLER, onbill(charging={"limits": "daily", "devices": "monthly"}), None)
    assert [settings.scheme_for(category) for category in ("limits", "devices", "users")] == [
        "daily",
        "monthly",
        "monthly",
    ]


def test_cancellable_items_are_read_as_category_item_pairs():
    settings = reseller_settings(
        RESELLER, onbill(cancellable={"limits": ["twoway_trunks"], "numbers": ["tollfree"]}), None
    )
    assert settings.cancellable == (("limits", "twoway_trunks"), ("numbers", "tollfree"))


def test_vat_rate_may_be_a_json_float_or_a_string_and_is_read_exactly():
    assert reseller_settings(RESELLER, onbill(vat_rate=18.5), None).vat_rate == Decimal("18.5")
    assert reseller_settings(RESELLER, onbill(vat_rate="12.25"), None).vat_rate == Decimal("12.25")


def test_the_low_balance_warnings_go_on_the_days_the_reseller_lists_or_on_days_1_3_and_7():
    assert reseller_settings(RESELLER, onbill(), None).low_balance_reminder_days == (1, 3, 7)
    assert reseller_settings(RESELLER, onbill(low_balance_reminder_days=[1, 14]), None).low_balance_reminder_days == (
        1,
        14,
    )


def test_the_low_balance_threshold_is_units_when_whole_and_currency_units_when_decimal():
    assert reseller_settings(RESELLER, onbill(low_balance_threshold=5000), None).low_balance_threshold == 5000
    assert reseller_settings(RESELLER, onbill(low_balance_threshold=50.0), None).low_balance_threshold == 50 * RUB


def test_unknown_keys_are_left_alone_and_the_understood_keys_are_listed():
    settings = reseller_settings(RESELLER, onbill(currency="RUB", pvt_vsn="4", some_kazoo_key={"x": 1}), None)
    assert settings.currency == "RUB"
    assert "currency" in RESELLER_ONBILL_KEYS and "some_kazoo_key" not in RESELLER_ONBILL_KEYS
    assert set(ACCOUNT_ONBILL_KEYS) == {
        "billing_day",
        "payment_type",
        "manual_block",
        "language",
        "rate_deck",
        "aggregate_invoice",
    }


@pytest.mark.parametrize(
    "key, value, field",
    [
        ("currency", "XYZ", "currency"),
        ("timezone", "Mars/Olympus", "timezone"),
        ("locale", 7, "locale"),
        ("charging", {"limits": "weekly"}, "charging.limits"),
        ("charging", ["daily"], "charging"),
        ("default_rate_deck", "Retail Deck", "default_rate_deck"),
        ("force_first_billing_day", "yes", "force_first_billing_day"),
        ("default_billing_day", 32, "default_billing_day"),
        ("default_billing_day", True, "default_billing_day"),
        ("cancellable", {"limits": "twoway_trunks"}, "cancellable.limits"),
        ("new_account_grace_days", -1, "new_account_grace_days"),
        ("vat_disposition", "gross", "vat_disposition"),
        ("vat_rate", 120, "vat_rate"),
        ("vat_rate", "twenty", "vat_rate"),
        ("low_balance_threshold", "lots", "low_balance_threshold"),
        ("low_balance_reminder_days", [7, 3, 1], "low_balance_reminder_days"),
        ("low_balance_reminder_days", "daily", "low_balance_reminder_days"),
    ],
)
def test_a_key_of_the_wrong_kind_is_refused_naming_the_account_and_the_field(key, value, field):
    with pytest.raises(SettingsError) as caught:
        reseller_settings(RESELLER, onbill(**{key: value}), None)
    assert (caught.value.account_id, caught.value.field) == (RESELLER, field)
    assert str(caught.value).startswith(f"account {RESELLER}: onbill.{field}: ")


def test_a_bad_key_in_the_masters_document_names_the_master_even_when_the_reseller_overrides_it():
    with pytest.raises(SettingsError) as caught:
        reseller_settings(RESELLER, onbill(currency="RUB"), onbill(currency=5), master_id=MASTER)
    assert (caught.value.account_id, caught.value.field) == (MASTER, "currency")


@pytest.mark.parametrize("document", [[], "onbill", 42])
def test_an_onbill_document_that_is_not_an_object_is_refused(document):
    with pytest.raises(SettingsError) as caught:
        reseller_settings(RESELLER, document, None)
    assert (caught.value.account_id, caught.value.field) == (RESELLER, "")
    assert str(caught.value) == f"account {RESELLER}: onbill: the document must be an object"


# ----------------------------------------------------------------------------- account settings


def test_an_account_without_onbill_is_prepay_billed_on_the_resellers_default_day_with_no_day_fixed():
    reseller = reseller_settings(RESELLER, onbill(default_billing_day=5, locale="ru_RU"), None)
    account = account_settings(CUSTOMER, None, reseller, created=CREATED)
    assert (account.billing_day, account.stored_billing_day, account.payment_type) == (5, None, "prepay")
    assert (account.manual_block, account.language, account.created, account.trial_expires) == (
        False,
        "ru",  # the reseller's language: the account names none
        CREATED,
        None,
    )
    assert (account.language_source, account.asked_language) == ("reseller", None)


def test_an_account_is_billed_on_its_own_stored_day():
    account = account_settings(CUSTOMER, onbill(billing_day=15), ResellerSettings(RESELLER), created=CREATED)
    assert (account.billing_day, account.stored_billing_day) == (15, 15)


def test_a_reseller_forcing_the_first_bills_a_postpay_account_that_stored_day_15_on_the_1st():
    reseller = reseller_settings(RESELLER, onbill(force_first_billing_day=True), None)
    account = account_settings(CUSTOMER, onbill(billing_day=15, payment_type="postpay"), reseller, created=CREATED)
    assert (account.billing_day, account.stored_billing_day, account.payment_type) == (1, 15, "postpay")


def test_account_settings_carry_the_manual_block_language_and_trial_expiry():
    account = account_settings(
        CUSTOMER,
        onbill(manual_block=True, language="de_DE"),
        ResellerSettings(RESELLER),
        created=CREATED,
        trial_expires=CREATED + 30 * 86_400,
    )
    assert (account.manual_block, account.language, account.trial_expires) == (True, "de", CREATED + 30 * 86_400)
    assert (account.language_source, account.asked_language) == ("account", "de_DE")


@pytest.mark.parametrize(
    "asked, reseller_locale, used, source",
    [
        ("de-DE", "ru_RU", "de", "account"),
        ("fi-FI", "ru_RU", "ru", "reseller"),  # no Finnish: the reseller's language
        ("fi-FI", "sv_SE", "en", "default"),  # nor Swedish: English
        (None, "de_AT", "de", "reseller"),
        (None, None, "en", "reseller"),  # a reseller that names no locale writes English (en_US)
    ],
)
def test_an_account_is_written_to_in_its_language_else_its_resellers_else_english(asked, reseller_locale, used, source):
    account = account_settings(
        CUSTOMER,
        onbill(**({"language": asked} if asked is not None else {})),
        ResellerSettings(RESELLER, **({"locale": reseller_locale} if reseller_locale else {})),
        created=CREATED,
    )
    assert (account.language, account.language_source) == (used, source)


@pytest.mark.parametrize(
    "keys, field",
    [
        ({"billing_day": 0}, "billing_day"),
        ({"billing_day": "15"}, "billing_day"),
        ({"payment_type": "credit"}, "payment_type"),
        ({"manual_block": 1}, "manual_block"),
        ({"language": ""}, "language"),
    ],
)
def test_a_bad_account_onbill_names_the_account_and_the_field(keys, field):
    with pytest.raises(SettingsError) as caught:
        account_settings(CUSTOMER, onbill(**keys), ResellerSettings(RESELLER), created=CREATED)
    assert (caught.value.account_id, caught.value.field, caught.value.document) == (CUSTOMER, field, "onbill")


def test_a_trial_expiry_that_is_not_gregorian_seconds_is_refused():
    with pytest.raises(SettingsError) as caught:
        account_settings(CUSTOMER, None, ResellerSettings(RESELLER), created=CREATED, trial_expires=1.5)
    assert (caught.value.field, caught.value.document) == ("pvt_trial_expires", "account")


# ----------------------------------------------------------------------------- reseller of an account


def account_doc(account_id: str, *ancestors: str) -> dict:
    return {"_id": account_id, "pvt_type": "account", "pvt_tree": list(ancestors)}


def test_in_a_chain_of_depth_three_the_nearest_reseller_ancestor_wins():
    customer = account_doc(CUSTOMER, MASTER, RESELLER, SUB_RESELLER)
    flags = {MASTER: True, RESELLER: True, SUB_RESELLER: True}
    assert reseller_of(customer, {}, MASTER, flags) == SUB_RESELLER
    assert reseller_of(customer, None, MASTER, {**flags, SUB_RESELLER: False}) == RESELLER


def test_the_services_documents_reseller_id_beats_the_tree():
    customer = account_doc(CUSTOMER, MASTER, RESELLER, SUB_RESELLER)
    assert reseller_of(customer, {"pvt_reseller_id": RESELLER}, MASTER, {SUB_RESELLER: True}) == RESELLER


def test_an_account_with_no_reseller_ancestor_belongs_to_the_master():
    assert reseller_of(account_doc(CUSTOMER, MASTER, RESELLER), None, MASTER, {}) == MASTER


@pytest.mark.parametrize(
    "document",
    [
        {"_id": CUSTOMER},
        {"_id": CUSTOMER, "pvt_tree": "m" * 32},
        {"_id": CUSTOMER, "pvt_tree": [MASTER, 7]},
    ],
)
def test_an_account_without_a_usable_tree_is_refused_naming_pvt_tree(document):
    for read in (lambda: reseller_of(document, None, MASTER, {}), lambda: master_of(document)):
        with pytest.raises(SettingsError) as caught:
            read()
        assert (caught.value.account_id, caught.value.field, caught.value.document) == (CUSTOMER, "pvt_tree", "account")


def test_a_services_document_naming_no_account_is_refused():
    with pytest.raises(SettingsError) as caught:
        reseller_of(account_doc(CUSTOMER, MASTER), {"pvt_reseller_id": 5}, MASTER, {})
    assert (caught.value.field, caught.value.document) == ("pvt_reseller_id", "services")


def test_the_master_is_the_root_of_the_tree_or_the_account_itself():
    assert master_of(account_doc(CUSTOMER, MASTER, RESELLER)) == MASTER
    assert master_of(account_doc(MASTER)) == MASTER


# ----------------------------------------------------------------------------- credit line


def limits(**keys) -> dict:
    return {"_id": "limits", "pvt_type": "limits", "pvt_account_id": CUSTOMER, **keys}


def test_without_postpay_there_is_no_credit_line():
    assert credit_line(None) == 0
    assert credit_line(limits(pvt_max_postpay_amount=1_000_000)) == 0
    assert credit_line(limits(pvt_allow_postpay=False, pvt_max_postpay_amount=1_000_000)) == 0


def test_an_integer_max_postpay_amount_is_units():
    assert credit_line(limits(pvt_allow_postpay=True, pvt_max_postpay_amount=1_005_000)) == 1_005_000


@pytest.mark.parametrize("amount", [100.5, Decimal("100.5"), "100.50"])
def test_a_decimal_max_postpay_amount_is_currency_units(amount):
    assert credit_line(limits(pvt_allow_postpay=True, pvt_max_postpay_amount=amount)) == 1_005_000


def test_a_string_without_a_decimal_point_is_units():
    assert credit_line(limits(pvt_allow_postpay=True, pvt_max_postpay_amount="5000")) == 5000


def test_public_postpay_keys_are_ignored():
    assert credit_line(limits(allow_postpay=True, max_postpay_amount=500.0)) == 0
    assert credit_line(limits(pvt_allow_postpay=True, max_postpay_amount=500.0)) == 0
    assert (
        credit_line(limits(pvt_allow_postpay=True, pvt_max_postpay_amount=10.0, max_postpay_amount=500.0)) == 10 * RUB
    )


@pytest.mark.parametrize(
    "keys, field",
    [
        ({"pvt_allow_postpay": True, "pvt_max_postpay_amount": -5}, "pvt_max_postpay_amount"),
        ({"pvt_allow_postpay": True, "pvt_max_postpay_amount": "a lot"}, "pvt_max_postpay_amount"),
        ({"pvt_allow_postpay": "true"}, "pvt_allow_postpay"),
    ],
)
def test_a_bad_limits_document_names_the_account_and_the_field(keys, field):
    with pytest.raises(SettingsError) as caught:
        credit_line(limits(**keys))
    assert (caught.value.account_id, caught.value.field, caught.value.document) == (CUSTOMER, field, "limits")


def test_the_reserve_amount_follows_the_same_rule_and_defaults_to_zero():
    assert reserve_amount(None) == 0
    assert reserve_amount(limits()) == 0
    assert reserve_amount(limits(pvt_reserve_amount=2500)) == 2500
    assert reserve_amount(limits(pvt_reserve_amount=0.25, reserve_amount=99)) == 2500
    with pytest.raises(SettingsError) as caught:
        reserve_amount(limits(pvt_reserve_amount=-1.0), account_id=RESELLER)
    assert (caught.value.account_id, caught.value.field) == (RESELLER, "pvt_reserve_amount")


@given(st.integers(min_value=0, max_value=10**12))
def test_any_whole_number_of_cents_written_as_currency_units_converts_exactly(cents):
    amount = Decimal(cents) / 100
    document = limits(pvt_allow_postpay=True, pvt_max_postpay_amount=float(f"{amount:.2f}"))
    assert credit_line(document) == cents * 100


def test_carriers_need_ids_names_and_one_main_carrier():
    from bookkeeper.domain.settings import reseller_settings as settings_of

    reseller = settings_of(
        "a" * 32,
        {
            "carriers": [
                {"id": "onnet", "name": "OnNet LLC", "main": True, "inn": "7801"},
                {"id": "beeline", "name": "Beeline"},
            ]
        },
        None,
    )
    assert [c["id"] for c in reseller.carriers] == ["onnet", "beeline"] and reseller.carriers[0]["inn"] == "7801"
    for broken, field in (
        ([{"id": "x", "name": "X"}], "carriers"),
        ([{"name": "X", "main": True}], "carriers[0].id"),
        ([{"id": "x", "name": "X", "main": True}, {"id": "x", "name": "Y"}], "carriers[1].id"),
        ("onnet", "carriers"),
    ):
        with pytest.raises(SettingsError) as refused:
            settings_of("a" * 32, {"carriers": broken}, None)
        assert refused.value.field == field


def test_category_codes_map_categories_to_short_codes():
    from bookkeeper.domain.settings import reseller_settings as settings_of

    assert dict(settings_of("a" * 32, {"category_codes": {"devices": "61.10.1"}}, None).category_codes) == {
        "devices": "61.10.1"
    }
    for broken in ({"devices": ""}, {"devices": 61}, ["61.10"], {"devices": "x" * 33}):
        with pytest.raises(SettingsError) as refused:
            settings_of("a" * 32, {"category_codes": broken}, None)
        assert refused.value.field == "category_codes"
