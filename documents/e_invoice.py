"""Factur-X: an invoice's PDF as PDF/A-3, with its EN 16931 CII XML embedded (the `factur-x`
package writes the attachment, its /AF relationship and the XMP that names the profile, and
checks the XML against the official XSD first: an XML the schema refuses is an error here, not a
document sent).

The XML comes from the document's data (bookkeeper.domain.documents.cii_invoice), like the PDF.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bookkeeper.domain.documents.cii_invoice import FACTUR_X, cii_invoice

XML_NAME = "factur-x.xml"


def wants_e_invoice(data: Mapping[str, Any]) -> bool:
    return data.get("e_invoice") == FACTUR_X


def with_e_invoice(pdf_a3: bytes, data: Mapping[str, Any]) -> bytes:
    """`pdf_a3`: the document rendered as PDF/A-3b (PdfRenderer.pdf(..., archival=True))."""
    import facturx

    kind = "credit note" if data.get("document_type") == "credit_note" else "invoice"
    return facturx.generate_from_binary(
        pdf_a3,
        cii_invoice(data),
        flavor="factur-x",
        level="en16931",
        check_xsd=True,
        pdf_metadata={
            "author": str(data["carrier"]["name"]),
            "keywords": f"Factur-X, {kind}",
            "title": f"{data['carrier']['name']}: {kind} {data['number']}",
            "subject": f"{kind.capitalize()} {data['number']} of {data['issued']}",
        },
        lang=str(data.get("language") or "en"),
    )
