"""Documents to HTML (Jinja2) and to PDF (WeasyPrint): the one module that calls WeasyPrint.

The stylesheet and the font configuration are parsed once per renderer and reused for every
document (that, not the layout, is most of a small document's cost). WeasyPrint may fetch
nothing but the files next to the templates: a template or a customer's name that points at a
remote URL or a local file elsewhere gets an error, not a request. User data is escaped by
Jinja2's autoescaping; a template that names something the data does not have fails loudly
(StrictUndefined) instead of printing an empty field.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping
from urllib.parse import unquote, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError, select_autoescape

from documents import formatting
from documents.labels import LABELS

if TYPE_CHECKING:  # documents.bounded imports RenderRefused from here
    from documents.bounded import RenderBounds

ASSETS = (Path(__file__).parent / "templates").resolve()
TYPES_WITH_TEMPLATES = ("invoice", "act", "proforma", "calls_report", "aggregated_invoice", "transaction_invoice")
log = logging.getLogger("kazbill.documents")


class RenderRefused(ValueError):
    """A document that must not be rendered as it is: `field` says what is wrong."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


def template_environment(loader: Any = None) -> Environment:
    return Environment(loader=loader or FileSystemLoader(str(ASSETS)), autoescape=select_autoescape(default=True),
                       undefined=StrictUndefined)


DEFAULT_TEMPLATES = template_environment()


def template_context(data: Mapping[str, Any]) -> dict[str, Any]:
    language, digits = data["language"], data["minor_digits"]
    labels = LABELS.get(language, LABELS["en"])
    return {
        "d": data, "t": labels, "title": labels.get(data["document_type"], data["document_type"]),
        "vat_charged": data["vat"]["disposition"] != "none" and data["vat"]["rate"] not in ("0", "0.00"),
        "money": lambda minor: formatting.amount(minor, digits, language),
        "day": lambda iso: formatting.day(iso, language),
        "ranges": lambda ranges: formatting.day_ranges(ranges, language),
        "count": lambda number, forms: formatting.counted(number, labels[forms], language),
    }


def html_of(data: Mapping[str, Any], environment: Environment = DEFAULT_TEMPLATES) -> str:
    kind = data["document_type"]
    if kind not in TYPES_WITH_TEMPLATES:
        raise RenderRefused("document_type", f"no template for {kind!r} ({', '.join(TYPES_WITH_TEMPLATES)})")
    return environment.get_template(f"{kind}.html").render(**template_context(data))


def _checked(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "file":
        raise RenderRefused("url", f"{parts.scheme or 'relative'} URLs are not fetched: {url[:100]}")
    path = Path(unquote(parts.path)).resolve()
    if ASSETS not in path.parents:
        raise RenderRefused("url", f"only the templates' own files are read, not {path}")
    return url


def _assets_only_fetcher():
    """WeasyPrint's URL fetcher, refusing everything but files next to the templates (WeasyPrint
    logs a refused resource and leaves it out; it never fetches it)."""
    from weasyprint.urls import URLFetcher

    class AssetsOnly(URLFetcher):
        def fetch(self, url, headers=None):
            return super().fetch(_checked(url), headers)

    return AssetsOnly(allowed_protocols=("file",), allow_redirects=False)


def fetch_asset(url: str) -> Any:
    """What the renderer's fetcher answers for `url` (RenderRefused outside the templates)."""
    return _assets_only_fetcher().fetch(url)


class PdfRenderer:
    """One per process: holds the parsed stylesheet and the fonts between documents."""

    def __init__(self) -> None:
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        self.fonts = FontConfiguration()
        self.fetcher = _assets_only_fetcher()
        self.stylesheet = CSS(filename=str(ASSETS / "style.css"), font_config=self.fonts, url_fetcher=self.fetcher)

    def pdf(self, html: str) -> bytes:
        from weasyprint import HTML

        document = HTML(string=html, base_url=ASSETS.as_uri() + "/", url_fetcher=self.fetcher)
        return document.write_pdf(stylesheets=[self.stylesheet], font_config=self.fonts)


class WeasyRenderer(PdfRenderer):
    """The DocumentRenderer port: the default templates, WeasyPrint. A reseller's own template is
    rendered and laid out in a bounded child process (documents.bounded), never in the worker."""

    def __init__(self, environment: Environment = DEFAULT_TEMPLATES, bounds: RenderBounds | None = None) -> None:
        from documents.bounded import RenderBounds

        super().__init__()
        self.environment = environment
        self.bounds = bounds or RenderBounds()

    def document_pdf(self, data: Mapping[str, Any], template: str | None = None) -> bytes:
        if template is None:  # ours: trusted, rendered here
            return self.pdf(self.html(data))
        from documents.bounded import run_bounded

        return run_bounded(lambda: self.pdf(self.html(data, template)), self.bounds, "rendering the reseller's template")

    def html(self, data: Mapping[str, Any], template: str | None = None) -> str:
        if template is not None:  # a reseller's own: in the sandbox
            from documents.custom_templates import render_custom

            return render_custom(template, data)
        try:
            return html_of(data, self.environment)
        except (TemplateError, KeyError, TypeError) as error:
            raise RenderRefused("template", f"{type(error).__name__}: {error}") from None
