"""A buyer's legal details, as its invoices name it: name, address, registration, and its tax
ids, checked the way the tax offices check them (a document with a mistyped INN is refused
by the buyer's accountant, and a reissue costs a correction).

- INN (Russia): 10 digits for an organisation, 12 for a person, with the check digits of the
  Federal Tax Service's rule; KPP: 9 characters, the 5th and 6th may be capital letters.
- VAT ID (EU): a member state's prefix and that state's format, as VIES publishes them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bookkeeper.domain.errors import FieldError

TEXT_FIELDS = {"name": 300, "address": 500, "postcode": 20, "city": 100, "registration": 64}  # and their longest
TAX_KEYS = ("inn", "kpp", "vat_id", "country")
FIELDS = (*TEXT_FIELDS, *TAX_KEYS)
INN_10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
INN_11_WEIGHTS = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
INN_12_WEIGHTS = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
KPP = re.compile(r"\d{4}[\dA-Z]{2}\d{3}")
# The format of each member state's VAT number after its prefix (Greece's prefix is EL; XI is
# Northern Ireland under the Windsor Framework).
EU_VAT_FORMATS = {
    "AT": r"U\d{8}",
    "BE": r"[01]\d{9}",
    "BG": r"\d{9,10}",
    "CY": r"\d{8}[A-Z]",
    "CZ": r"\d{8,10}",
    "DE": r"\d{9}",
    "DK": r"\d{8}",
    "EE": r"\d{9}",
    "EL": r"\d{9}",
    "ES": r"[A-Z0-9]\d{7}[A-Z0-9]",
    "FI": r"\d{8}",
    "FR": r"[A-HJ-NP-Z0-9]{2}\d{9}",
    "HR": r"\d{11}",
    "HU": r"\d{8}",
    "IE": r"\d{7}[A-W][A-I]?|\d[A-Z+*]\d{5}[A-W]",
    "IT": r"\d{11}",
    "LT": r"\d{9}|\d{12}",
    "LU": r"\d{8}",
    "LV": r"\d{11}",
    "MT": r"\d{8}",
    "NL": r"\d{9}B\d{2}",
    "PL": r"\d{10}",
    "PT": r"\d{9}",
    "RO": r"\d{2,10}",
    "SE": r"\d{12}",
    "SI": r"\d{8}",
    "SK": r"\d{10}",
    "XI": r"\d{9}|\d{12}|GD\d{3}|HA\d{3}",
}


class LegalDetailsError(FieldError):
    """A legal detail that is not what its name says (the field names which)."""


def _check_digit(digits: str, weights: tuple[int, ...]) -> int:
    # strict=False: the INN is longer than the weights, its check digits are not weighed
    return sum(int(digit) * weight for digit, weight in zip(digits, weights, strict=False)) % 11 % 10


def inn_is_valid(inn: str) -> bool:
    if not inn.isascii() or not inn.isdigit():
        return False
    if len(inn) == 10:
        return _check_digit(inn, INN_10_WEIGHTS) == int(inn[9])
    if len(inn) == 12:
        return _check_digit(inn, INN_11_WEIGHTS) == int(inn[10]) and _check_digit(inn, INN_12_WEIGHTS) == int(inn[11])
    return False


def vat_id_problem(vat_id: str) -> str | None:
    """None for a well-formed EU VAT number ("DE123456789"); else what is wrong with it."""
    prefix, number = vat_id[:2], vat_id[2:]
    if prefix not in EU_VAT_FORMATS:
        return f"must start with an EU member state's prefix ({', '.join(sorted(EU_VAT_FORMATS))})"
    if not re.fullmatch(EU_VAT_FORMATS[prefix], number):
        return f"does not have the format of a VAT number of {prefix}"
    return None


def checked_carrier_tax_ids(carriers: Any) -> Any:
    """The carriers with each one's INN, KPP, VAT ID and country written as the tax offices and
    ISO 3166 write them (no spaces, upper case) and checked as a buyer's are, when a reseller
    writes them (invoices are worthless with a wrong one); never when billing reads them, so a
    detail stored before this check cannot stop anything. Its other lines are its own to word."""
    if not isinstance(carriers, list):
        return carriers
    checked = []
    for index, carrier in enumerate(carriers):
        legal = carrier.get("legal") if isinstance(carrier, Mapping) else None
        if isinstance(legal, Mapping):
            ids = {key: "".join(str(legal[key]).split()).upper() for key in TAX_KEYS if legal.get(key)}
            check_tax_ids(ids, f"carriers[{index}].legal")
            carrier = {**carrier, "legal": {**legal, **ids}}
        checked.append(carrier)
    return checked


def parse_legal(value: Any, path: str = "legal") -> dict[str, str]:
    """The details, trimmed (a tax id also loses its spaces); LegalDetailsError naming the field."""
    if not isinstance(value, Mapping):
        raise LegalDetailsError(path, "must be an object of name, address, registration, inn, kpp, vat_id, country")
    unknown = sorted(set(value) - set(FIELDS))
    if unknown:
        raise LegalDetailsError(f"{path}.{unknown[0]}", f"not a legal detail; expected some of {', '.join(FIELDS)}")
    details = _trimmed(value, path)
    check_tax_ids(details, path)
    return details


def _trimmed(value: Mapping[str, Any], path: str) -> dict[str, str]:
    """The details given, trimmed, each a string no longer than its field allows."""
    details: dict[str, str] = {}
    for key, raw in value.items():
        if raw is None:
            continue  # unset, as a null is in Kazoo
        if not isinstance(raw, str) or not raw.strip():
            raise LegalDetailsError(f"{path}.{key}", "must be a non-empty string")
        details[key] = raw.strip() if key in TEXT_FIELDS else "".join(raw.split()).upper()
    for key, longest in TEXT_FIELDS.items():
        if len(details.get(key, "")) > longest:
            raise LegalDetailsError(f"{path}.{key}", f"at most {longest} characters")
    return details


def check_tax_ids(details: Mapping[str, str], path: str) -> None:
    """INN, KPP, VAT ID and country, as the tax offices and ISO 3166 write them."""
    if "inn" in details and not inn_is_valid(details["inn"]):
        raise LegalDetailsError(
            f"{path}.inn", "not a valid INN: 10 digits (an organisation) or 12 (a person) whose check digits match"
        )
    if "kpp" in details and not KPP.fullmatch(details["kpp"]):
        raise LegalDetailsError(f"{path}.kpp", "not a KPP: 9 characters, digits but the 5th and 6th")
    if "kpp" in details and len(details.get("inn", "")) != 10:
        raise LegalDetailsError(f"{path}.kpp", "a KPP belongs to an organisation: give its 10-digit INN too")
    if "vat_id" in details and (problem := vat_id_problem(details["vat_id"])):
        raise LegalDetailsError(f"{path}.vat_id", problem)
    if "country" in details and not re.fullmatch(r"[A-Z]{2}", details["country"]):
        raise LegalDetailsError(f"{path}.country", "an ISO 3166 country code of two letters (RU, DE...)")
