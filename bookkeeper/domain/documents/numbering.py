"""Document numbers: which sequence a document draws from, and how its number is shown.

A sequence is per reseller, carrier, document type and year (or one for all years when the
carrier numbers continuously), starting at the carrier's start number. A type that `follows`
another (an act following its invoice) has no sequence of its own: it shows the number the other
type has for the same subject. A period is numbered only once it is over, so that its documents
never change after they are numbered.
"""

from __future__ import annotations

from datetime import date

from bookkeeper.domain.documents.carriers import Carrier
from bookkeeper.domain.errors import FieldError


class NumberingError(FieldError):
    """A number that cannot be given (yet)."""


def numbered_type(carrier: Carrier, document_type: str) -> str:
    """The type whose sequence `document_type` draws from (itself, or the type it follows)."""
    seen = [document_type]
    while (follows := carrier.numbering_of(seen[-1]).follows) is not None:
        if follows in seen:
            raise NumberingError(f"numbering.{document_type}.follows", f"a cycle: {' → '.join(seen + [follows])}")
        seen.append(follows)
    return seen[-1]


def sequence_key(reseller_id: str, carrier: Carrier, document_type: str, issued: date) -> str:
    rule = carrier.numbering_of(document_type)
    return f"{reseller_id}-{carrier.id}-{document_type}-{issued.year if rule.per_year else 'all'}"


def shown_number(carrier: Carrier, document_type: str, number: int, issued: date) -> str:
    return carrier.numbering_of(document_type).format.format(number=number, year=issued.year, carrier=carrier.id)


def require_closed(period_end: date, today: date) -> None:
    if period_end >= today:
        raise NumberingError(
            "period",
            f"the period ends on {period_end.isoformat()}: it can be numbered from the "
            f"day after, not on {today.isoformat()}",
        )
