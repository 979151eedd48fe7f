"""Credit notes: a document that takes back all or part of an issued invoice, and refers to it.

An invoice is never edited or deleted once issued: the EU (a credit note, EN 16931 type 381,
referring to the invoice it corrects, BT-25) and Russia (a корректировочный счёт to the счёт it
corrects) both correct one with a document of its own, numbered in a sequence of its own. Two
uses:
- **crediting** an amount the customer should not have paid (a line or part of one: an outage,
  a phone that never worked): the credit note's total goes back to the balance;
- **voiding** an invoice whose details were wrong (the buyer's name, its tax id): the credit note
  takes back the whole invoice, no money moves, and the period is issued again under new numbers.

A credit note's lines are the original's lines (their names, their period) with the amount taken
back, in the original's terms: net under netto VAT, gross under brutto. A line taken back in
part is taxed as the original's carrier taxes (vat.taxed_lines); a line taken back to the end
takes what is left of the original's net, VAT and gross, so that an invoice credited in several
notes is credited to the minor unit, never a kopeck more or less than it asked for.

Everything here is minor units (kopecks, cents), like the documents themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from bookkeeper.domain.documents.cii_invoice import FACTUR_X, missing
from bookkeeper.domain.documents.vat import Taxed, VatPolicy, taxed_lines, total
from bookkeeper.domain.documents.words import amount_in_words
from bookkeeper.domain.errors import FieldError
from bookkeeper.domain.money import MoneyError, exact

CREDITABLE = ("invoice", "aggregated_invoice")  # tax documents a credit note can refer to
CREDIT_NOTE = "credit_note"
MAX_REASON = 500


class CreditRefused(FieldError):
    """A credit that cannot be made as asked (the field names what)."""


class NotCreditable(CreditRefused):
    """The document cannot be credited at all, or not any more (the API's 409)."""


@dataclass(frozen=True)
class Credited:
    """What has been taken back of one original line so far: in the original's terms (`priced`:
    net under netto, gross under brutto) and as net, VAT and gross."""

    priced: int = 0
    net: int = 0
    vat: int = 0
    gross: int = 0

    def plus(self, priced: int, amounts: Taxed) -> Credited:
        return Credited(
            self.priced + priced, self.net + amounts.net, self.vat + amounts.vat, self.gross + amounts.gross
        )

    def as_list(self) -> list[int]:
        return [self.priced, self.net, self.vat, self.gross]

    @classmethod
    def of(cls, value: Sequence[int]) -> Credited:
        return cls(*[int(part) for part in value])


def reason_of(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CreditRefused("reason", "required: why the document is corrected (it is printed on the credit note)")
    if len(value) > MAX_REASON or any(ord(char) < 32 and char not in "\n\t" for char in value):
        raise CreditRefused("reason", f"at most {MAX_REASON} characters, without control characters")
    return value.strip()


def creditable(original: Mapping[str, Any]) -> None:
    """NotCreditable unless `original` is an invoice that still has something to take back."""
    kind = original.get("document_type")
    if kind not in CREDITABLE:
        raise NotCreditable("doc_id", f"{a(kind)} is not corrected by a credit note; only {', '.join(CREDITABLE)}")
    if original.get("voided"):
        raise NotCreditable("doc_id", f"voided by credit note {original['voided'].get('number')}")


def a(kind: object) -> str:
    """ "an act", "a proforma": the document type with its article, for the reasons given."""
    text = str(kind).replace("_", " ")
    return f"{'an' if text[:1] in 'aeiou' else 'a'} {text}"


def priced_amount(line: Mapping[str, Any], disposition: str) -> int:
    """The line's amount in the reseller's terms: what the invoice priced it at."""
    return int(line["net"] if disposition == "netto" else line["gross"])


def remaining(original: Mapping[str, Any], credited: Sequence[Credited]) -> list[int]:
    """What is left to take back of each line, in the reseller's terms. A negative line (a
    prorated credit the invoice gave) is left whole until the rest of the invoice is taken back:
    it is part of what the customer paid, never something to credit on its own."""
    disposition = original["vat"]["disposition"]
    left = []
    for index, line in enumerate(original["lines"]):
        priced = priced_amount(line, disposition)
        taken = credited[index].priced if index < len(credited) else 0
        left.append(max(0, priced - taken) if priced > 0 else priced - taken)
    return left


def wanted_lines(
    original: Mapping[str, Any], credited: Sequence[Credited], asked: Sequence[Mapping[str, Any]] | None, digits: int
) -> dict[int, int]:
    """{line index: amount to take back} from a request's `lines` ([{"line": 2, "amount":
    "100.00"}], lines numbered as the invoice prints them, amounts in currency units as Decimal
    or str), or everything left of the invoice when `asked` is None. Each amount positive, in
    whole minor units, at most what is left of its line, and all of them at most what is left of
    the invoice (its credit lines count: a customer is never credited more than it paid)."""
    left = remaining(original, credited)
    if asked is None:
        if sum(left) <= 0:
            raise NotCreditable("doc_id", "credited in full already: nothing is left to take back")
        return {index: amount for index, amount in enumerate(left) if amount != 0}
    if not isinstance(asked, list) or not asked:
        raise CreditRefused("lines", 'a list of {"line": number on the invoice, "amount": to take back}')
    wanted: dict[int, int] = {}
    for position, item in enumerate(asked):
        path = f"lines[{position}]"
        if not isinstance(item, Mapping) or set(item) - {"line", "amount"}:
            raise CreditRefused(path, 'an object {"line": number on the invoice, "amount": to take back}')
        number = item.get("line")
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= len(left):
            raise CreditRefused(f"{path}.line", f"a line of the invoice, 1 to {len(left)}")
        if number - 1 in wanted:
            raise CreditRefused(f"{path}.line", f"line {number} is named twice")
        amount = _minor(item.get("amount"), digits, f"{path}.amount")
        if amount > max(0, left[number - 1]):
            raise CreditRefused(
                f"{path}.amount",
                f"more than is left of line {number}: {_major(max(0, left[number - 1]), digits)}",
            )
        wanted[number - 1] = amount
    if sum(wanted.values()) > sum(left):
        raise CreditRefused("lines", f"more than is left of the invoice: {_major(sum(left), digits)}")
    return wanted


def credit_note_lines(
    original: Mapping[str, Any], credited: Sequence[Credited], wanted: Mapping[int, int], policy: VatPolicy
) -> list[tuple[int, dict[str, Any], int, Taxed]]:
    """(original index, the line as the credit note shows it, amount in the reseller's terms, its
    net, VAT and gross) for each line taken back, in the invoice's order."""
    left = remaining(original, credited)
    indexes = sorted(wanted)
    partial = [index for index in indexes if wanted[index] < left[index]]
    taxed = dict(
        zip(partial, taxed_lines([wanted[i] for i in partial], policy, original["vat"]["rounding"]), strict=True)
    )
    result = []
    for index in indexes:
        line = original["lines"][index]
        if index in taxed:
            amounts = taxed[index]
        else:  # the rest of the line: exactly what the invoice asked for it, less what was taken back
            before = credited[index] if index < len(credited) else Credited()
            amounts = Taxed(
                int(line["net"]) - before.net, int(line["vat"]) - before.vat, int(line["gross"]) - before.gross
            )
        shown = {
            key: line[key]
            for key in ("kind", "description", "name", "quantity", "days", "ratio", "category", "code")
            if key in line
        }
        shown.update(
            {"original_line": index + 1, "amount_minor": wanted[index], **vars_of(amounts), "arithmetic": None}
        )
        result.append((index, shown, wanted[index], amounts))
    return result


def credit_note_data(
    original: Mapping[str, Any],
    taken: Sequence[tuple[int, dict[str, Any], int, Taxed]],
    *,
    number: str,
    sequence_number: int,
    issued: date,
    reason: str,
    refund: bool,
) -> dict[str, Any]:
    """The credit note's data, in the original's terms: its parties, currency, language and VAT,
    and the lines `credit_note_lines` took back. Amounts are positive: what is credited."""
    totals = total([amounts for _, _, _, amounts in taken])
    language, digits, currency = original["language"], int(original["minor_digits"]), original["currency"]
    data = {
        "document_type": CREDIT_NOTE,
        "number": number,
        "sequence_number": sequence_number,
        "issued": issued.isoformat(),
        "period": dict(original["period"]),
        "carrier": original["carrier"],
        "customer": original["customer"],
        "currency": currency,
        "minor_digits": digits,
        "language": language,
        "vat": dict(original["vat"]),
        "lines": [shown for _, shown, _, _ in taken],
        "totals": vars_of(totals),
        "total_in_words": amount_in_words(totals.gross, currency, language, digits),
        "corrects": {
            "id": original["_id"],
            "document_type": original["document_type"],
            "number": original["number"],
            "issued": original["issued"],
        },
        "reason": reason,
        "refund": refund,  # credited to the balance; a void's note moves no money
    }
    if original.get("e_invoice") == FACTUR_X:  # an e-invoice is corrected by an e-credit note
        why = missing(data)
        data.update({"e_invoice": FACTUR_X} if why is None else {"e_invoice_skipped": why})
    return data


def vars_of(amounts: Taxed) -> dict[str, int]:
    return {"net": amounts.net, "vat": amounts.vat, "gross": amounts.gross}


def _minor(value: object, digits: int, path: str) -> int:
    """Minor units from an amount a person typed: exact (no float), positive, whole minor units."""
    try:
        amount = exact(value, path)
    except MoneyError as error:
        raise CreditRefused(path, error.reason) from None
    if amount <= 0:
        raise CreditRefused(path, "a positive amount")
    minor = amount.scaleb(digits)
    if minor != minor.to_integral_value():
        raise CreditRefused(path, f"at most {digits} decimals")
    return int(minor)


def _major(minor: int, digits: int) -> str:
    return str(Decimal(minor).scaleb(-digits))
