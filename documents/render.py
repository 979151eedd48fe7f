"""The DocumentRenderer port: a document's data to its PDF, with Kazbill's templates or with a
reseller's own (sandboxed, and laid out in a bounded child process). The only module that
calls WeasyPrint is documents/pdf.py; HTML comes from documents/html.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import Environment, TemplateError

from documents.bounded import RenderBounds, run_bounded
from documents.custom_templates import render_custom
from documents.e_invoice import e_invoice_xml
from documents.html import DEFAULT_TEMPLATES, RenderRefused, html_of
from documents.pdf import PdfRenderer


class WeasyRenderer(PdfRenderer):
    """The DocumentRenderer port: the default templates, WeasyPrint. A reseller's own template is
    rendered and laid out in a bounded child process (documents.bounded), never in the worker."""

    def __init__(self, environment: Environment = DEFAULT_TEMPLATES, bounds: RenderBounds | None = None) -> None:
        super().__init__()
        self.environment = environment
        self.bounds = bounds or RenderBounds()

    def document_pdf(self, data: Mapping[str, Any], template: str | None = None) -> bytes:
        xml = e_invoice_xml(data)
        if template is None:  # ours: trusted, rendered here
            return self.pdf(self.html(data), e_invoice=xml)
        return run_bounded(
            lambda: self.pdf(self.html(data, template), e_invoice=xml),
            self.bounds,
            "rendering the reseller's template",
        )

    def html(self, data: Mapping[str, Any], template: str | None = None) -> str:
        if template is not None:  # a reseller's own: in the sandbox
            return render_custom(template, data)
        try:
            return html_of(data, self.environment)
        except (TemplateError, KeyError, TypeError) as error:
            raise RenderRefused("template", f"{type(error).__name__}: {error}") from None
