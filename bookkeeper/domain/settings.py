"""Billing settings: what a reseller configured, and what each of its accounts carries.

Kazoo keeps configuration in documents, so Kazbill does too. A reseller's choices live in an
`onbill` document (`_id: "onbill"`) in the reseller's account database. Whatever a reseller
leaves unset comes from the master (top) account's `onbill`, key by key, and whatever the master
leaves unset from the defaults below: a reseller that sets only its currency still bills in the
master's time zone. An account's own `onbill` holds what is the account's alone.

Who an account's reseller is, and how much credit Kazoo's limits document gives it, follow
Kazoo's own rules, so that Kazbill never disagrees with Kazoo's call authorisation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from bookkeeper.domain.added_vat import netto_rate, with_vat
from bookkeeper.domain.languages import choose_language
from bookkeeper.domain.low_balance import DEFAULT_REMINDER_DAYS
from bookkeeper.domain.money import MoneyError
from bookkeeper.domain.onbill_values import (
    ACCOUNT_READERS,
    RESELLER_READERS,
    Refused,
    amount_in_units,
    flag,
    gregorian_seconds,
)
from bookkeeper.domain.periods import (
    InvalidBillingDay,
    UnknownTimeZone,
    effective_billing_day,
    local_day_of_gregorian,
)
from bookkeeper.domain.standing import first_billed_day

ONBILL_DOC_ID = "onbill"
DEFAULT_CANCELLABLE = (("limits", "twoway_trunks"), ("limits", "inbound_trunks"), ("limits", "outbound_trunks"))


class SettingsError(ValueError):
    """A document Kazbill cannot bill by. `field` is the path inside `document` ("" for the whole
    document); the message names the account whose document it is, so an operator can fix it."""

    def __init__(self, account_id: str, field: str, reason: str, document: str = "onbill"):
        where = f"{document}.{field}" if field else document
        super().__init__(f"account {account_id}: {where}: {reason}")
        self.account_id = account_id
        self.field = field
        self.reason = reason
        self.document = document


@dataclass(frozen=True)
class ResellerSettings:
    reseller_id: str
    currency: str = "USD"  # ISO 4217 code
    timezone: str = "UTC"  # IANA name
    locale: str = "en_US"
    charging: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    force_first_billing_day: bool = False  # every account bills on the 1st, whatever it stored
    default_billing_day: int = 1
    prorate_new_accounts: bool = True
    prorated_credits: bool = False
    cancellable: tuple[tuple[str, str], ...] = DEFAULT_CANCELLABLE  # (category, item) pairs
    blocking_enabled: bool = False
    new_account_grace_days: int = 0
    default_service_plan: str | None = None
    vat_disposition: str = "none"
    vat_rate: Decimal = Decimal(0)  # per cent
    low_balance_threshold: int | None = None  # units
    low_balance_reminder_days: tuple[int, ...] = DEFAULT_REMINDER_DAYS  # the days of a spell warned on
    carriers: tuple[Mapping[str, Any], ...] = ()
    default_rate_deck: str | None = None  # the per-minute deck of accounts that name none
    mail_from: str | None = None  # the address its customers' notices and documents come from
    documents_to: str = "account"  # whose admins get the period documents: the account's, or the reseller's
    category_codes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))  # per category, on invoices

    def debited(self, net_units: int) -> int:
        """What the balance is debited for a price: a netto reseller's VAT on top (added_vat)."""
        return with_vat(net_units, netto_rate(self.vat_disposition, self.vat_rate))[0]

    def scheme_for(self, category: str) -> str:
        """ "monthly" or "daily"; a category the reseller did not list is charged monthly."""
        return self.charging.get(category, "monthly")


@dataclass(frozen=True)
class AccountSettings:
    account_id: str
    billing_day: int  # the day the account is actually billed on
    stored_billing_day: int | None  # what its onbill says; None: not fixed yet (e.g. in trial)
    payment_type: str  # "prepay" | "postpay"
    manual_block: bool
    language: str  # the language its words are written in (languages.choose_language): en, ru or de
    created: int  # Gregorian seconds
    trial_expires: int | None  # Gregorian seconds; None: not a trial account
    rate_deck: str | None = None  # the reseller's per-minute deck this account's calls are rated by
    aggregate_invoice: bool = False  # one more invoice, from the main carrier, with every carrier's lines
    language_source: str = "account"  # where `language` came from: account, reseller or default
    asked_language: str | None = None  # what the account's settings ask for

    def first_billed_day(self, tz: str) -> date:
        """The first day it is charged for, in its reseller's zone `tz`: the day it was created,
        or the day after its trial expired unconverted (standing.first_billed_day)."""
        expires = self.trial_expires
        return first_billed_day(
            created_day=local_day_of_gregorian(self.created, tz),
            trial_expires_day=None if expires is None else local_day_of_gregorian(expires, tz),
        )


# The keys Kazbill understands; every other key of an onbill document is someone else's and is left alone.
RESELLER_ONBILL_KEYS = tuple(RESELLER_READERS)
ACCOUNT_ONBILL_KEYS = tuple(ACCOUNT_READERS)


def _read_document(
    account_id: str, doc: Any, readers: Mapping[str, Callable[[Any], Any]], document: str = "onbill"
) -> dict[str, Any]:
    """The keys of `doc` that `readers` know and that are set, parsed. A null counts as unset,
    as it does in Kazoo, where saving a key as null removes it."""
    if doc is None:
        return {}
    if not isinstance(doc, Mapping):
        raise SettingsError(account_id, "", "the document must be an object", document)
    parsed: dict[str, Any] = {}
    for key, read in readers.items():
        if doc.get(key) is None:
            continue
        try:
            parsed[key] = read(doc[key])
        except (Refused, MoneyError, UnknownTimeZone, InvalidBillingDay) as error:
            subfield = getattr(error, "subfield", "")
            path = (f"{key}{subfield}" if subfield.startswith("[") else f"{key}.{subfield}") if subfield else key
            raise SettingsError(account_id, path, getattr(error, "reason", str(error)), document) from None
    return parsed


def reseller_settings(
    reseller_id: str, reseller_onbill: Mapping | None, master_onbill: Mapping | None, *, master_id: str = "master"
) -> ResellerSettings:
    """The master's document is checked in full even where the reseller overrides it: a broken
    master setting is a configuration error for every reseller and should surface at once."""
    inherited = _read_document(master_id, master_onbill, RESELLER_READERS)
    own = _read_document(reseller_id, reseller_onbill, RESELLER_READERS)
    return ResellerSettings(reseller_id, **{**inherited, **own})


def account_settings(
    account_id: str,
    onbill: Mapping | None,
    reseller: ResellerSettings,
    *,
    created: int | None,
    trial_expires: int | None = None,
    plan_rate_deck: str | None = None,
) -> AccountSettings:
    """`created` and `trial_expires` are the account document's pvt_created and pvt_trial_expires.
    The rate deck: the account's own, else the one its service plan names, else the reseller's default."""
    instants = {"pvt_created": created, "pvt_trial_expires": trial_expires}
    _read_document(account_id, instants, dict.fromkeys(instants, gregorian_seconds), "account")
    if created is None:
        raise SettingsError(account_id, "pvt_created", "is missing", "account")
    own = _read_document(account_id, onbill, ACCOUNT_READERS)
    stored_day = own.get("billing_day")
    language = choose_language(own.get("language"), reseller.locale)
    billing_day = effective_billing_day(
        stored_day, force_first_day=reseller.force_first_billing_day, default_day=reseller.default_billing_day
    )
    return AccountSettings(
        account_id=account_id,
        billing_day=billing_day,
        stored_billing_day=stored_day,
        payment_type=own.get("payment_type", "prepay"),
        manual_block=own.get("manual_block", False),
        language=language.used,
        created=created,
        trial_expires=trial_expires,
        rate_deck=own.get("rate_deck") or plan_rate_deck or reseller.default_rate_deck,
        aggregate_invoice=own.get("aggregate_invoice", False),
        language_source=language.source,
        asked_language=language.asked,
    )


# ----------------------------------------------------------------------------- Kazoo's rules


def _account_and_tree(account_doc: Any) -> tuple[str, list[str]]:
    if not isinstance(account_doc, Mapping):
        raise SettingsError("unknown", "", "the document must be an object", "account")
    account_id = account_doc.get("_id")
    if not isinstance(account_id, str) or not account_id:
        raise SettingsError("unknown", "_id", "must be the account id", "account")
    tree = account_doc.get("pvt_tree")
    if not isinstance(tree, list) or not all(isinstance(ancestor, str) and ancestor for ancestor in tree):
        raise SettingsError(account_id, "pvt_tree", "must be a list of ancestor account ids, root first", "account")
    return account_id, tree


def reseller_of(
    account_doc: Mapping, services_doc: Mapping | None, master_id: str, reseller_flags: Mapping[str, bool]
) -> str:
    """Kazoo's rule: the reseller its services document names, else the nearest ancestor whose
    services document says `pvt_reseller`, else the master. `reseller_flags` maps ancestor ids to
    that flag; an ancestor missing from it is not a reseller."""
    account_id, tree = _account_and_tree(account_doc)
    if services_doc is not None:
        if not isinstance(services_doc, Mapping):
            raise SettingsError(account_id, "", "the document must be an object", "services")
        named = services_doc.get("pvt_reseller_id")
        if named is not None:
            if not isinstance(named, str) or not named:
                raise SettingsError(account_id, "pvt_reseller_id", "must be an account id", "services")
            return named
    for ancestor in reversed(tree):  # the tree lists the root first; the nearest is last
        if reseller_flags.get(ancestor) is True:
            return ancestor
    return master_id


def master_of(account_doc: Mapping) -> str:
    account_id, tree = _account_and_tree(account_doc)
    return tree[0] if tree else account_id


def _non_negative_amount(value: Any) -> int:
    amount = amount_in_units(value)
    if amount < 0:
        raise Refused("must not be negative")
    return amount


def _limits(limits_doc: Mapping | None, account_id: str | None, key: str, default: Any) -> Any:
    # Kazoo stamps pvt_account_id on the document; it names the account when none is given.
    stamped = limits_doc.get("pvt_account_id") if isinstance(limits_doc, Mapping) else None
    owner = account_id or (stamped if isinstance(stamped, str) and stamped else "unknown")
    reader = flag if key == "pvt_allow_postpay" else _non_negative_amount
    return _read_document(owner, limits_doc, {key: reader}, "limits").get(key, default)


def credit_line(limits_doc: Mapping | None, *, account_id: str | None = None) -> int:
    """How far below zero Kazoo lets the balance go, in units: pvt_max_postpay_amount, and only
    when pvt_allow_postpay is true. The public keys of the same names are the account holder's
    to edit, so Kazoo ignores them here, and so do we."""
    if not _limits(limits_doc, account_id, "pvt_allow_postpay", False):
        return 0
    return _limits(limits_doc, account_id, "pvt_max_postpay_amount", 0)


def reserve_amount(limits_doc: Mapping | None, *, account_id: str | None = None) -> int:
    """Units Kazoo holds back from the balance before authorising calls (pvt_reserve_amount)."""
    return _limits(limits_doc, account_id, "pvt_reserve_amount", 0)
