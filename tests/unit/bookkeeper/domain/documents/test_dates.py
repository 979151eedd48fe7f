"""A day as each language's reader writes it, in the PDFs and in the emails alike."""

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.domain.documents.dates import shown_day


def test_russian_and_english_readers_get_their_own_dates():
    assert shown_day(date(2026, 11, 1), "ru") == "01.11.2026"
    assert shown_day(date(2026, 11, 30), "en") == "30 November 2026"
    assert shown_day(date(2027, 1, 5), "xx") == "5 January 2027"  # unknown language: English


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2999, 12, 31)))
def test_no_reader_is_shown_an_iso_date(day):
    for language in ("ru", "en"):
        assert day.isoformat() not in shown_day(day, language)
