"""CSV answers: chosen with `Accept: text/csv` or `format=csv`, streamed row by row, and safe to
open in a spreadsheet.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to Excel,
LibreOffice and Google Sheets, and what a customer names its account is theirs to choose: such a
text cell is written with a leading apostrophe (OWASP's "CSV injection" advice), which the
spreadsheet shows as text and does not run. Numbers Kazbill wrote itself (a negative balance)
are left as they are: they are values, not anyone's input.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import falcon

from crossbar_api.errors import invalid

CSV_MEDIA = "text/csv; charset=utf-8"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def wants_csv(req: falcon.Request) -> bool:
    """`format=csv` (or `json`), else what the Accept header prefers; JSON unless CSV is asked for."""
    chosen = req.get_param("format")
    if chosen is not None:
        if chosen not in ("csv", "json"):
            raise invalid("format", "enum", "must be csv or json")
        return chosen == "csv"
    accept = req.get_header("Accept") or ""
    return "text/csv" in accept and req.client_prefers([falcon.MEDIA_JSON, "text/csv"]) == "text/csv"


def cell(value: Any) -> str | int | Decimal:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return value
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """The header, then each row, encoded as they come (a UTF-8 BOM first, so that Excel reads
    Cyrillic and umlauts as such)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    yield ("\ufeff" + buffer.getvalue()).encode("utf-8")
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([cell(value) for value in row])
        yield buffer.getvalue().encode("utf-8")


def stream_csv(resp: falcon.Response, filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    resp.content_type = CSV_MEDIA
    resp.set_header("Content-Disposition", f'attachment; filename="{filename}"')
    resp.stream = csv_lines(header, rows)
