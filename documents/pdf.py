"""HTML to PDF (WeasyPrint), reading nothing but the files next to the templates.

The stylesheet and the font configuration are parsed once per renderer and reused for every
document (that, not the layout, is most of a small document's cost). WeasyPrint may fetch
nothing but the files next to the templates: a template or a customer's name that points at a
remote URL or a local file elsewhere gets an error, not a request.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from documents.html import ASSETS, RenderRefused

XML_NAME = "factur-x.xml"  # the name Factur-X readers look for


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

    def pdf(self, html: str, *, archival: bool = False, e_invoice: bytes | None = None) -> bytes:
        """`archival`: PDF/A-3b. `e_invoice`: the CII XML of a Factur-X invoice, embedded as
        PDF/A-3b requires it and named in the XMP (documents.e_invoice)."""
        from weasyprint import HTML, Attachment

        document = HTML(string=html, base_url=ASSETS.as_uri() + "/", url_fetcher=self.fetcher)
        options: dict[str, Any] = {"pdf_variant": "pdf/a-3b"} if archival or e_invoice else {}
        if e_invoice is not None:
            options["attachments"] = [
                Attachment(string=e_invoice, name=XML_NAME, description="Factur-X invoice", relationship="Data")
            ]
            options["xmp_metadata"] = [(ASSETS / "factur-x.xmp").as_uri()]
        return document.write_pdf(stylesheets=[self.stylesheet], font_config=self.fonts, **options)
