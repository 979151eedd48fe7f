"""Correcting issued documents: a credit note for all or part of an invoice (its total back to the
balance), and voiding (a credit note for the whole invoice, no money moved, and the period's
documents of that carrier issued again under new numbers). A voided pro-forma, which asks for
money and is no tax document, is only marked voided.

What each invoice had taken back is one record in the account's database,
`kazbill_corrections-<document id>`, moved by revision-checked writes: two requests racing
cannot both take back the same kopeck. A credit note is recorded there first (with the key that
makes a repeat the same request), then made: numbered (the same subject keeps its number),
stored, queued, its refund posted (once, keyed by its id), the invoice marked. A request cut
short after the record is finished by its repeat, or by the next correction of that invoice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from bookkeeper.domain.documents.credit_notes import (
    CREDIT_NOTE,
    Credited,
    CreditRefused,
    NotCreditable,
    a,
    credit_note_data,
    credit_note_lines,
    creditable,
    wanted_lines,
)
from bookkeeper.domain.documents.vat import Taxed, VatPolicy
from bookkeeper.domain.money import units_from_minor
from bookkeeper.domain.periods import local_day_of_gregorian
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.documents import correction_records
from bookkeeper.services.documents.document_issue import DocumentPorts, IssuedDocument, Issuer
from bookkeeper.services.documents.document_listing import NoSuchDocument, find_document
from bookkeeper.services.documents.period_documents import (
    PERIOD_TYPES,
    family_of,
    issue_period_documents,
    reissue_generations,
    set_generation,
)
from bookkeeper.services.payments.postings import credit_note_refund

ATTEMPTS = 50


@dataclass(frozen=True)
class Correction:
    original: str  # the corrected document's id
    credit_note: IssuedDocument | None  # None: a pro-forma, voided without one
    total_minor: int  # what the note takes back (gross, minor units)
    currency: str
    refunded: bool  # its total went back to the balance
    reissued: tuple[IssuedDocument, ...] = ()
    replay: bool = False  # the same request made before: nothing new was done


def credit_document(
    ports: DocumentPorts,
    account_id: str,
    doc_id: str,
    *,
    lines: Sequence[Mapping[str, Any]] | None,
    reason: str,
    key: str,
    by: str,
) -> Correction:
    """A credit note for `lines` of the invoice (everything left when None), its total credited
    to the balance. `key` makes a repeat answer the first note; a different request under the
    same key is refused."""
    issuer = Issuer.of(ports, account_id)
    _, original = find_document(ports.store, account_id, doc_id)
    subject = f"credit-{doc_id}-{_digest(key)}"
    for _ in range(ATTEMPTS):
        record = correction_records.record_of(ports.store, account_id, doc_id)
        made = next((note for note in record["notes"] if note["subject"] == subject), None)
        if made is not None:
            if made["asked"] != _asked(lines, reason):
                raise CreditRefused("Idempotency-Key", "used for another credit note: send a new key for a new one")
            return _finish(issuer, original, made, replay=True)
        creditable(original)
        _finish_pending(issuer, original, record)
        note = _planned(issuer, original, record, subject, lines, reason, by, refund=True)
        if correction_records.save_note(ports.store, account_id, record, note):
            return _finish(issuer, original, note)
    raise CreditRefused("doc_id", "too many corrections of this document at once; try again")


def void_document(ports: DocumentPorts, account_id: str, doc_id: str, *, reason: str, by: str) -> Correction:
    """Void the document: an invoice by a credit note for all of it, its act and calls report with
    it, and that carrier's documents of the period issued again from the ledger under new
    numbers; a pro-forma by a mark. Voiding again answers the first void."""
    issuer = Issuer.of(ports, account_id)
    _, original = find_document(ports.store, account_id, doc_id)
    kind = original.get("document_type")
    if kind == "proforma":
        return _void_proforma(issuer, original, reason, by)
    if kind in ("act", "calls_report"):
        raise NotCreditable("doc_id", f"{a(kind)} is voided with its invoice {original.get('number')}")
    subject = f"void-{doc_id}"
    for _ in range(ATTEMPTS):
        record = correction_records.record_of(ports.store, account_id, doc_id)
        made = next((note for note in record["notes"] if note["subject"] == subject), None)
        if made is not None:
            return _finish(issuer, original, made, replay=True)
        creditable(original)
        if record["notes"]:
            numbers = ", ".join(note.get("number") or note["subject"] for note in record["notes"])
            raise NotCreditable(
                "doc_id", f"credited already (credit note {numbers}): credit the rest of it instead of voiding it"
            )
        note = _planned(issuer, original, record, subject, None, reason, by, refund=False)
        period = original["period"]["start"]
        family = family_of(str(kind))
        note["generation"] = (
            reissue_generations(ports.store, account_id, date.fromisoformat(period)).get(
                f"{original['carrier']['id']}/{family}", 0
            )
            + 1
        )
        if correction_records.save_note(ports.store, account_id, record, note):
            return _finish(issuer, original, note)
    raise CreditRefused("doc_id", "too many corrections of this document at once; try again")


def _planned(
    issuer: Issuer,
    original: Mapping[str, Any],
    record: dict[str, Any],
    subject: str,
    lines: Sequence[Mapping[str, Any]] | None,
    reason: str,
    by: str,
    *,
    refund: bool,
) -> dict[str, Any]:
    credited = [Credited.of(value) for value in record["credited"]]
    wanted = wanted_lines(original, credited, lines, int(original["minor_digits"]))
    taken = credit_note_lines(original, credited, wanted, _policy(original))
    return {
        "subject": subject,
        "asked": _asked(lines, reason),
        "reason": reason,
        "by": by,
        "refund": refund,
        "at": issuer.now,
        "issued": local_day_of_gregorian(issuer.now, issuer.context.reseller.timezone).isoformat(),
        "taken": [[index, shown, priced, [a.net, a.vat, a.gross]] for index, shown, priced, a in taken],
        "gross": sum(a.gross for _, _, _, a in taken),
        "done": False,
    }


def _finish_pending(issuer: Issuer, original: Mapping[str, Any], record: dict[str, Any]) -> None:
    for note in record["notes"]:
        if not note.get("done"):
            _finish(issuer, original, note)


def _finish(issuer: Issuer, original: Mapping[str, Any], note: dict[str, Any], *, replay: bool = False) -> Correction:
    """Make what the note records; every step finds what a finished step left and does nothing."""
    if note.get("done"):  # made before: answered as it was made
        return Correction(
            original["_id"],
            _made(note["made"][0]),
            note["gross"],
            original["currency"],
            note["refund"],
            tuple(_made(made) for made in note["made"][1:]),
            replay,
        )
    ports, store = issuer.ports, issuer.ports.store
    carrier = next((c for c in issuer.carriers() if c.id == original["carrier"]["id"]), None)
    if carrier is None:
        raise NotCreditable(
            "doc_id", f"its carrier {original['carrier']['id']!r} is no longer among the reseller's carriers"
        )
    issued_on = date.fromisoformat(note["issued"])
    number, shown = issuer.number(carrier, CREDIT_NOTE, note["subject"], issued_on)
    taken = [(index, shown_line, priced, Taxed(*amounts)) for index, shown_line, priced, amounts in note["taken"]]
    data = credit_note_data(
        original,
        taken,
        number=shown,
        sequence_number=number,
        issued=issued_on,
        reason=note["reason"],
        refund=note["refund"],
    )
    doc = issuer.store_document(CREDIT_NOTE, carrier.id, issued_on, _digest(note["subject"]), data, None)
    if note["refund"]:
        credit_note_refund(
            BillingPorts(store, ports.clock, ports.design_docs),
            issuer.context.account_id,
            amount=units_from_minor(note["gross"], original["currency"]),
            credit_note_id=doc.doc_id,
            description=f"credit note {shown} to {original['number']}",
            by=note["by"],
        )
    reissued: tuple[IssuedDocument, ...] = ()
    marks: dict[str, Any] = {"credit_notes": {doc.doc_id: shown}}
    if "generation" in note:
        reissued = _reissue(issuer, original, note["generation"])
        marks = {
            "voided": {
                "by": doc.doc_id,
                "number": shown,
                "reason": note["reason"],
                "at": note["at"],
                "replaced_by": [issued.doc_id for issued in reissued],
            }
        }
        for sibling in _siblings(original["_id"]):
            correction_records.mark(issuer.ports.store, issuer.context.account_id, sibling, marks)
    correction_records.mark(issuer.ports.store, issuer.context.account_id, original["_id"], marks)
    made = [[d.db, d.doc_id, d.document_type, d.carrier, d.number] for d in (doc, *reissued)]
    correction_records.note_done(
        issuer.ports.store, issuer.context.account_id, original["_id"], note["subject"], shown, made
    )
    return Correction(original["_id"], doc, note["gross"], original["currency"], note["refund"], reissued, replay)


def _reissue(issuer: Issuer, original: Mapping[str, Any], generation: int) -> tuple[IssuedDocument, ...]:
    """The voided family issued again: the kinds the voided one had, under the next generation."""
    family, carrier_id = family_of(original["document_type"]), original["carrier"]["id"]
    account_id, start = issuer.context.account_id, date.fromisoformat(original["period"]["start"])
    set_generation(issuer.ports.store, account_id, start, carrier_id, family, generation)
    kinds = list(PERIOD_TYPES)
    if any("-kazbill-doc-calls_report-" in sibling for sibling in _existing_siblings(issuer, original["_id"])):
        kinds.append("calls_report")
    return tuple(issue_period_documents(issuer.ports, account_id, start, tuple(kinds), only=(carrier_id, family)))


def _siblings(doc_id: str) -> list[str]:
    """The act and calls report issued with an invoice: the same ids but for the type."""
    head, _, rest = doc_id.partition("-kazbill-doc-")
    if not rest.startswith("invoice-"):
        return []
    tail = rest[len("invoice-") :]
    return [f"{head}-kazbill-doc-{kind}-{tail}" for kind in ("act", "calls_report")]


def _existing_siblings(issuer: Issuer, doc_id: str) -> list[str]:
    found = []
    for sibling in _siblings(doc_id):
        try:
            find_document(issuer.ports.store, issuer.context.account_id, sibling)
            found.append(sibling)
        except NoSuchDocument:
            continue  # the carrier issues no such document, or had none for the period
    return found


def _void_proforma(issuer: Issuer, original: dict[str, Any], reason: str, by: str) -> Correction:
    """A pro-forma asks for money and is no tax document: voided by a mark, no credit note."""
    if not original.get("voided"):
        correction_records.mark(
            issuer.ports.store,
            issuer.context.account_id,
            original["_id"],
            {"voided": {"reason": reason, "by": by, "at": issuer.now}},
        )
    return Correction(original["_id"], None, 0, original["currency"], False, replay=bool(original.get("voided")))


def _asked(lines: object, reason: str) -> list[Any]:
    """The request as the record keeps it, to tell a repeat from another request under its key
    (whatever the request holds: a malformed one is refused after this comparison)."""
    if not isinstance(lines, list):
        return [None if lines is None else repr(lines), reason]
    return [
        [[item.get("line"), str(item.get("amount"))] if isinstance(item, Mapping) else repr(item) for item in lines],
        reason,
    ]


def _policy(original: Mapping[str, Any]) -> VatPolicy:
    return VatPolicy(original["vat"]["disposition"], Decimal(str(original["vat"]["rate"])))


def _made(made: Sequence[str]) -> IssuedDocument:
    db, doc_id, kind, carrier, number = made
    return IssuedDocument(db, doc_id, kind, carrier, number, email=False)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
