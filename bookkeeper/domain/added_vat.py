"""VAT a netto reseller's charges carry, on the ledger itself.

A netto reseller's prices exclude VAT, and its customers pay them with VAT on top. The balance
is money the customer paid, VAT included, so a charge debits it the price plus VAT, and the
documents ask for exactly that: the net the plan says, the VAT on it, their sum. (The balance
was once debited the net while the documents asked for the gross: Gamma Shop was debited 450.00
and invoiced 549.00.) A brutto reseller's prices already hold their VAT: its charges are debited
as priced, and the documents take the VAT out of them.

The VAT is computed per entry in Kazoo's units (1/10,000 of the currency), half away from zero,
and recorded beside the net (`metadata.kazbill.vat`), so what a document shows is read back
from what was charged, never recomputed from a rate that may have changed since.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from bookkeeper.domain.money import round_units

NETTO = "netto"


def netto_rate(disposition: str, rate: Decimal) -> Decimal:
    """The rate a charge adds on top: the reseller's rate under netto, none otherwise."""
    return rate if disposition == NETTO and rate > 0 else Decimal(0)


def vat_on(net_units: int, rate: Decimal) -> int:
    """Rounded as a ledger entry is, half away from zero (so a credit mirrors a debit)."""
    return round_units(Decimal(net_units) * rate / 100) if rate > 0 else 0


def with_vat(net_units: int, rate: Decimal) -> tuple[int, dict[str, Any] | None]:
    """(what the ledger holds, the record kept beside it): the net plus its VAT, or the net alone."""
    vat = vat_on(net_units, rate)
    if not vat:
        return net_units, None
    return net_units + vat, {"rate": str(rate), "net": net_units, "vat": vat}


def net_of(entry: Mapping[str, Any]) -> int:
    """An entry's amount without the VAT a netto charge added (the amount itself when none was)."""
    record = ((entry.get("metadata") or {}).get("kazbill") or {}).get("vat")
    amount = entry.get("amount")
    if isinstance(record, Mapping) and isinstance(record.get("net"), int) and isinstance(amount, int):
        return int(record["net"])
    return int(amount or 0)


def as_priced(entries: list[dict[str, Any]], disposition: str) -> list[dict[str, Any]]:
    """The entries as a document prices its lines: a netto reseller's at their net (the document
    adds the VAT back, as the charge did), anyone else's as charged."""
    if disposition != NETTO:
        return entries
    return [{**entry, "amount": net_of(entry)} if "amount" in entry else entry for entry in entries]
