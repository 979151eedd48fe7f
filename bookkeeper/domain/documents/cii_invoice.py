"""An invoice as an EN 16931 e-invoice: the UN/CEFACT Cross Industry Invoice (CII D16B) that a
Factur-X / ZUGFeRD PDF carries (profile EN 16931), built from the same document data the PDF
shows, so the two cannot disagree.

Germany's B2B e-invoicing mandate asks for it from 2027. What the rules require and a document's
data may lack (a party's country and address, the seller's VAT id: BR-08 to BR-11, BR-S-02) is
checked first: `missing` names the field, and such a document is issued as a plain PDF with the
reason recorded, never as an e-invoice a validator would refuse. Standard-rated VAT (category S)
only: exemptions and reverse charge need their reasons, which Kazbill does not keep yet.

Each line is its quantity (units, or days for daily fees) at a net price that is the line's net
amount divided by it (to four decimals, as the document's own arithmetic shows the share of a
period inside the price), and the document's totals and VAT breakdown are the data's own.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
EN16931 = "urn:cen.eu:en16931:2017"
FACTUR_X = "factur-x"
# UNTDID 1001: a commercial invoice; a credit note (it refers to the invoice it corrects, BT-25).
INVOICE_TYPES = {"invoice": "380", "aggregated_invoice": "380", "credit_note": "381"}
for prefix, uri in (("rsm", RSM), ("ram", RAM), ("udt", UDT), ("qdt", QDT)):
    ET.register_namespace(prefix, uri)


def missing(data: Mapping[str, Any]) -> str | None:
    """Why the data cannot be an EN 16931 invoice ("field: reason"), or None when it can."""
    if data.get("document_type") not in INVOICE_TYPES:
        return f"document_type: only invoices are e-invoices, not {data.get('document_type')!r}"
    vat = data.get("vat") or {}
    if vat.get("disposition") == "none" or Decimal(str(vat.get("rate") or 0)) <= 0:
        return "vat_rate: an e-invoice here carries standard-rated VAT (category S); the reseller charges none"
    if vat.get("rounding") != "per_rate":
        return "vat_rounding: EN 16931 rounds VAT once per rate (BR-CO-17); the carrier rounds per line"
    carrier, customer = data.get("carrier") or {}, data.get("customer") or {}
    for path, legal in (("carrier.legal", carrier.get("legal") or {}), ("customer.legal", customer.get("legal") or {})):
        country = str(legal.get("country") or "")
        if len(country) != 2 or not country.isalpha() or not country.isupper():
            return f"{path}.country: a two-letter ISO 3166 code is required (EN 16931 BR-09, BR-11)"
        if not str(legal.get("address") or "").strip():
            return f"{path}.address: the postal address is required (EN 16931 BR-08, BR-10)"
    if not str((carrier.get("legal") or {}).get("vat_id") or "").strip():
        return "carrier.legal.vat_id: the seller's VAT id is required with standard-rated VAT (EN 16931 BR-S-02)"
    return None


def cii_invoice(data: Mapping[str, Any]) -> bytes:
    """The CII XML of an invoice's data; `missing(data)` must be None."""
    reason = missing(data)
    if reason is not None:
        raise ValueError(reason)
    digits, currency = int(data["minor_digits"]), str(data["currency"])
    rate = _rate(data["vat"]["rate"])
    root = ET.Element(f"{{{RSM}}}CrossIndustryInvoice")
    context = _sub(root, "rsm", "ExchangedDocumentContext")
    _text(_sub(context, "ram", "GuidelineSpecifiedDocumentContextParameter"), "ID", EN16931)
    header = _sub(root, "rsm", "ExchangedDocument")
    _text(header, "ID", str(data["number"]))
    _text(header, "TypeCode", INVOICE_TYPES[data["document_type"]])
    _date(_sub(header, "ram", "IssueDateTime"), data["issued"])
    corrects = data.get("corrects")
    if corrects and data.get("reason"):  # BT-22: why the invoice is corrected
        _text(_sub(header, "ram", "IncludedNote"), "Content", str(data["reason"]))
    transaction = _sub(root, "rsm", "SupplyChainTradeTransaction")
    for index, line in enumerate(data["lines"], start=1):
        _line(transaction, index, line, digits, rate)
    agreement = _sub(transaction, "ram", "ApplicableHeaderTradeAgreement")
    _party(agreement, "SellerTradeParty", data["carrier"]["name"], data["carrier"]["legal"])
    customer = data["customer"]
    _party(agreement, "BuyerTradeParty", customer["legal"].get("name") or customer["name"], customer["legal"])
    delivery = _sub(transaction, "ram", "ApplicableHeaderTradeDelivery")
    # Services over a period are supplied when it ends (BT-72; the period itself is BG-14).
    supplied = _sub(_sub(delivery, "ram", "ActualDeliverySupplyChainEvent"), "ram", "OccurrenceDateTime")
    _date(supplied, data["period"]["end"])
    settlement = _sub(transaction, "ram", "ApplicableHeaderTradeSettlement")
    _text(settlement, "InvoiceCurrencyCode", currency)
    iban = str((data["carrier"].get("bank") or {}).get("iban") or "").replace(" ", "")
    if iban and not corrects:  # a credit note asks for no transfer to the seller
        means = _sub(settlement, "ram", "SpecifiedTradeSettlementPaymentMeans")
        _text(means, "TypeCode", "58")  # SEPA credit transfer
        _text(_sub(means, "ram", "PayeePartyCreditorFinancialAccount"), "IBANID", iban)
    totals = data["totals"]
    tax = _sub(settlement, "ram", "ApplicableTradeTax")
    _text(tax, "CalculatedAmount", _money(totals["vat"], digits))
    _text(tax, "TypeCode", "VAT")
    _text(tax, "BasisAmount", _money(totals["net"], digits))
    _text(tax, "CategoryCode", "S")
    _text(tax, "RateApplicablePercent", rate)
    period = _sub(settlement, "ram", "BillingSpecifiedPeriod")
    _date(_sub(period, "ram", "StartDateTime"), data["period"]["start"])
    _date(_sub(period, "ram", "EndDateTime"), data["period"]["end"])
    terms = _sub(settlement, "ram", "SpecifiedTradePaymentTerms")
    _text(terms, "Description", _terms(data))
    summation = _sub(settlement, "ram", "SpecifiedTradeSettlementHeaderMonetarySummation")
    _text(summation, "LineTotalAmount", _money(sum(line["net"] for line in data["lines"]), digits))
    _text(summation, "TaxBasisTotalAmount", _money(totals["net"], digits))
    _text(summation, "TaxTotalAmount", _money(totals["vat"], digits)).set("currencyID", currency)
    _text(summation, "GrandTotalAmount", _money(totals["gross"], digits))
    _text(summation, "DuePayableAmount", _money(totals["gross"], digits))
    if corrects:  # BG-3: the invoice this credit note corrects
        reference = _sub(settlement, "ram", "InvoiceReferencedDocument")
        _text(reference, "IssuerAssignedID", str(corrects["number"]))
        issued = ET.SubElement(_sub(reference, "ram", "FormattedIssueDateTime"), f"{{{QDT}}}DateTimeString")
        issued.set("format", "102")
        issued.text = str(corrects["issued"]).replace("-", "")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _terms(data: Mapping[str, Any]) -> str:
    corrects = data.get("corrects")
    if not corrects:
        return f"Payable on receipt; please quote invoice {data['number']}."
    if data.get("refund"):
        return f"Credited to the customer's prepaid balance; corrects invoice {corrects['number']}."
    return f"Cancels invoice {corrects['number']} in full; a new invoice for the period replaces it."


def _line(transaction: ET.Element, index: int, line: Mapping[str, Any], digits: int, rate: str) -> None:
    item = _sub(transaction, "ram", "IncludedSupplyChainTradeLineItem")
    _text(_sub(item, "ram", "AssociatedDocumentLineDocument"), "LineID", str(index))
    _text(_sub(item, "ram", "SpecifiedTradeProduct"), "Name", _name(line))
    sums = line.get("arithmetic") or {}
    quantity = int(sums.get("quantity") or 1) or 1
    net = Decimal(int(line["net"])).scaleb(-digits)
    price = (net / quantity).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    agreement = _sub(item, "ram", "SpecifiedLineTradeAgreement")
    _text(_sub(agreement, "ram", "NetPriceProductTradePrice"), "ChargeAmount", str(abs(price)))
    unit = "DAY" if line.get("kind") == "daily" else "C62"  # UN/ECE Rec. 20: a day; one (a unit)
    signed = quantity if price >= 0 else -quantity
    _text(_sub(item, "ram", "SpecifiedLineTradeDelivery"), "BilledQuantity", str(signed)).set("unitCode", unit)
    settlement = _sub(item, "ram", "SpecifiedLineTradeSettlement")
    tax = _sub(settlement, "ram", "ApplicableTradeTax")
    _text(tax, "TypeCode", "VAT")
    _text(tax, "CategoryCode", "S")
    _text(tax, "RateApplicablePercent", rate)
    _text(_sub(settlement, "ram", "SpecifiedTradeSettlementLineMonetarySummation"), "LineTotalAmount", str(net))


def _name(line: Mapping[str, Any]) -> str:
    if line.get("kind") == "calls":
        return "Telephone calls (per minute)"
    name = str(line.get("name") or line.get("description") or line.get("kind"))
    return f"{name} × {line['quantity']}" if line.get("kind") == "daily" and line.get("name") else name


def _party(agreement: ET.Element, tag: str, name: str, legal: Mapping[str, Any]) -> None:
    party = _sub(agreement, "ram", tag)
    _text(party, "Name", str(name))
    address = _sub(party, "ram", "PostalTradeAddress")
    if legal.get("postcode"):
        _text(address, "PostcodeCode", str(legal["postcode"]))
    _text(address, "LineOne", str(legal["address"]))
    if legal.get("city"):
        _text(address, "CityName", str(legal["city"]))
    _text(address, "CountryID", str(legal["country"]))
    if legal.get("vat_id"):
        _text(_sub(party, "ram", "SpecifiedTaxRegistration"), "ID", str(legal["vat_id"])).set("schemeID", "VA")


def _sub(parent: ET.Element, prefix: str, tag: str) -> ET.Element:
    return ET.SubElement(parent, f"{{{RSM if prefix == 'rsm' else RAM}}}{tag}")


def _text(parent: ET.Element, tag: str, value: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{RAM}}}{tag}")
    element.text = value
    return element


def _date(parent: ET.Element, iso: str) -> None:
    element = ET.SubElement(parent, f"{{{UDT}}}DateTimeString", {"format": "102"})
    element.text = iso.replace("-", "")


def _money(minor: int, digits: int) -> str:
    return str(Decimal(int(minor)).scaleb(-digits).quantize(Decimal(1).scaleb(-max(digits, 2))))


def _rate(rate: Any) -> str:
    """19 → "19", 7.50 → "7.5": the percentage without trailing zeros."""
    value = Decimal(str(rate))
    return str(int(value)) if value == value.to_integral() else str(value.normalize())
