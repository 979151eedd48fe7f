"""Credit notes, worked by hand and over random invoices: what a note takes back of each line, its
VAT as the carrier rounds it, the rest of an invoice credited to the minor unit however many
notes it took, bad requests named by their field, and an EU credit note as a valid EN 16931
e-invoice (type 381) referring to the invoice it corrects."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bookkeeper.domain.documents.cii_invoice import cii_invoice
from bookkeeper.domain.documents.credit_notes import (
    Credited,
    CreditRefused,
    NotCreditable,
    credit_note_data,
    credit_note_lines,
    creditable,
    reason_of,
    remaining,
    wanted_lines,
)
from bookkeeper.domain.documents.vat import VatPolicy, taxed
from testkit.support.en16931 import rule_failures, xsd_valid
from tests.unit.bookkeeper.domain.documents.test_cii_invoice import invoice

NETTO_19 = VatPolicy("netto", Decimal(19))


def original(data: dict) -> dict:
    return {**data, "_id": "202611-kazbill-doc-invoice-fjord-20261101"}


def credit(data, credited, asked):
    policy = VatPolicy(data["vat"]["disposition"], Decimal(data["vat"]["rate"]))
    wanted = wanted_lines(data, credited, asked, int(data["minor_digits"]))
    taken = credit_note_lines(data, credited, wanted, policy)
    after = list(credited) + [Credited()] * (len(data["lines"]) - len(credited))
    for index, _, priced, amounts in taken:
        after[index] = after[index].plus(priced, amounts)
    return taken, after


def test_a_worked_example_part_of_a_line_then_the_rest():
    data = original(invoice())  # netto 19 %, rounded per rate: 31.43 net, 5.97 VAT, 37.40
    assert [line["net"] for line in data["lines"]] == [400, 1_120, 1_800, -300, 123]
    taken, credited = credit(data, [], [{"line": 3, "amount": "10.00"}])
    ((index, shown, priced, amounts),) = taken
    assert (index, priced, shown["original_line"], shown["name"]) == (2, 1_000, 3, "Desk phone")
    assert (amounts.net, amounts.vat, amounts.gross) == (1_000, 190, 1_190)  # 10.00 + 19 %
    # The credit line (−3.00, a phone removed mid-month) stays until the rest is taken back.
    assert remaining(data, credited) == [400, 1_120, 800, -300, 123]
    rest, credited = credit(data, credited, None)
    assert [index for index, *_ in rest] == [0, 1, 2, 3, 4]
    net = sum(a.net for *_, a in taken + rest)
    vat = sum(a.vat for *_, a in taken + rest)
    # All that the invoice asked, to the cent, VAT included: never what its credit line gave back.
    assert (net, vat) == (data["totals"]["net"], data["totals"]["vat"])
    with pytest.raises(NotCreditable):
        credit(data, credited, None)


@pytest.mark.parametrize(
    "asked, field",
    [
        ([], "lines"),
        ("all", "lines"),
        ([{"line": 0, "amount": "1"}], "lines[0].line"),
        ([{"line": 6, "amount": "1"}], "lines[0].line"),
        ([{"line": True, "amount": "1"}], "lines[0].line"),
        ([{"line": 1, "amount": "0"}], "lines[0].amount"),
        ([{"line": 1, "amount": "-1"}], "lines[0].amount"),
        ([{"line": 1, "amount": "1.001"}], "lines[0].amount"),
        ([{"line": 1, "amount": "NaN"}], "lines[0].amount"),
        ([{"line": 1, "amount": 1.5}], "lines[0].amount"),  # a float: never money
        ([{"line": 1, "amount": "4.01"}], "lines[0].amount"),  # more than the line's 4.00
        ([{"line": 4, "amount": "0.01"}], "lines[0].amount"),  # a credit line: nothing to take back
        ([{"line": 1, "amount": "1"}, {"line": 1, "amount": "1"}], "lines[1].line"),
        # 4.00 + 11.20 + 18.00 + 1.23 of lines, but the invoice asked 31.43: its −3.00 counts
        (
            [
                {"line": 1, "amount": "4"},
                {"line": 2, "amount": "11.20"},
                {"line": 3, "amount": "18"},
                {"line": 5, "amount": "1.23"},
            ],
            "lines",
        ),
        ([{"line": 1, "amount": "1", "vat": "0"}], "lines[0]"),
    ],
)
def test_a_bad_request_names_its_field(asked, field):
    with pytest.raises(CreditRefused) as refused:
        wanted_lines(original(invoice()), [], asked, 2)
    assert refused.value.field == field


def test_what_cannot_be_credited_and_a_reason_is_required():
    with pytest.raises(NotCreditable):
        creditable({**invoice(), "document_type": "act"})
    with pytest.raises(NotCreditable):
        creditable({**invoice(), "voided": {"number": "3"}})
    for bad in (None, "", "  ", "x" * 501, "a\x00b"):
        with pytest.raises(CreditRefused):
            reason_of(bad)
    assert reason_of("  outage  ") == "outage"


@pytest.mark.parametrize("refund", [True, False])
def test_an_eu_credit_note_is_a_valid_en16931_credit_note_referring_to_its_invoice(refund):
    data = original(invoice())
    taken, _ = credit(data, [], None if not refund else [{"line": 1, "amount": "2.50"}, {"line": 5, "amount": "1"}])
    note = credit_note_data(
        data, taken, number="GS-1", sequence_number=1, issued=date(2026, 12, 4), reason="Outage", refund=refund
    )
    assert note["e_invoice"] == "factur-x" and note["corrects"]["number"] == "FT-2026-7"
    xml = cii_invoice(note)
    assert xsd_valid(xml)
    assert rule_failures(xml) == []
    text = xml.decode()
    for shown in (
        "<ram:TypeCode>381</ram:TypeCode>",
        "<ram:IssuerAssignedID>FT-2026-7</ram:IssuerAssignedID>",
        '<qdt:DateTimeString format="102">20261130</qdt:DateTimeString>',
        "<ram:Content>Outage</ram:Content>",
    ):
        assert shown in text, shown
    assert "IBANID" not in text  # nothing to transfer to the seller
    if not refund:  # a void takes back exactly what the invoice asked
        assert note["totals"] == data["totals"]


AMOUNTS = st.lists(st.integers(-50_000, 500_000), min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(
    amounts=AMOUNTS,
    disposition=st.sampled_from(["netto", "brutto"]),
    rate=st.sampled_from([Decimal(7), Decimal(19), Decimal(20), Decimal("5.5")]),
    rounding=st.sampled_from(["per_line", "per_rate"]),
    shares=st.lists(st.tuples(st.integers(0, 7), st.integers(1, 100)), max_size=10),
)
def test_credit_notes_never_take_back_more_than_a_line_and_the_rest_credits_the_invoice_exactly(
    amounts, disposition, rate, rounding, shares
):
    policy = VatPolicy(disposition, rate)
    lines = []
    for amount in amounts:
        tax = taxed(amount, policy)
        lines.append({"kind": "one_time", "name": "Item", "net": tax.net, "vat": tax.vat, "gross": tax.gross})
    data = {
        "_id": "x",
        "document_type": "invoice",
        "lines": lines,
        "vat": {"disposition": disposition, "rate": str(rate), "rounding": rounding},
        "minor_digits": 2,
    }
    credited: list[Credited] = []
    for line_index, percent in shares:  # partial credits, each a share of what is left of a line
        left = remaining(data, credited)
        index = line_index % len(lines)
        amount = min(left[index], sum(left)) * percent // 100
        if amount <= 0:
            continue
        taken, credited = credit(data, credited, [{"line": index + 1, "amount": str(Decimal(amount).scaleb(-2))}])
        for _, _, priced, amounts_taken in taken:
            assert amounts_taken.net + amounts_taken.vat == amounts_taken.gross
            assert priced <= left[index]
        left = remaining(data, credited)
        assert sum(left) >= 0 and all(left[i] >= 0 for i, line in enumerate(lines) if line["gross"] > 0)
    rest = sum(remaining(data, credited)) > 0
    if rest:
        _, credited = credit(data, credited, None)
    credited += [Credited()] * (len(lines) - len(credited))
    priced = [line["net"] if disposition == "netto" else line["gross"] for line in lines]
    # Never more than the invoice asked, counting its credit lines; nothing left once it is all taken.
    assert sum(done.priced for done in credited) <= max(sum(priced), 0)
    assert sum(remaining(data, credited)) <= 0
    if rest:  # the rest taken back: every line exactly, VAT and all, credit lines included
        for line, done in zip(lines, credited, strict=True):
            assert (done.net, done.vat, done.gross) == (line["net"], line["vat"], line["gross"])
