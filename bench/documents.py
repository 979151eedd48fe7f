"""Documents benchmark: how fast invoices become PDFs, and a period end from ledger to mailbox.
Prints figures; asserts nothing about time.

1. Rendering, for a 1-page (6 lines) and a 3-page (40 lines) invoice:
   - a fresh renderer per document (stylesheet and fonts parsed every time: the naive way);
   - one renderer kept (what a document worker does);
   - batches of --batch documents laid out in one pass and split into one PDF each;
   - --workers processes, each keeping its renderer (the troupe's parallelism);
   - a 1-page EU invoice plain and as Factur-X (bench/e_invoices.py).
2. A period end on the embedded store: --accounts customers with a month of charges and calls;
   issue their documents (lines, numbers, data), then render and email them (a real aiosmtpd
   server) with --workers processes running document passes; total time, documents/s, peak
   memory of the largest process.

    .venv/bin/python -m bench.documents [--documents 40] [--batch 10] [--workers 2] [--accounts 1000]
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

from bench.record import record
from bookkeeper.domain.documents.carriers import parse_carriers
from bookkeeper.domain.documents.document_data import document_data
from bookkeeper.domain.documents.invoice_lines import InvoiceLine
from bookkeeper.domain.documents.vat import VatPolicy
from documents.html import ASSETS, html_of
from documents.pdf import PdfRenderer

CARRIER = parse_carriers(
    [
        {
            "id": "volna",
            "name": "ООО «Волна Телеком»",
            "main": True,
            "legal": {"address": "Москва, ул. Тверская, д. 1", "inn": "ИНН 7701234567"},
        }
    ]
)[0]


def batched(htmls: list[str]) -> tuple[str, list[str]]:
    """Several documents as one HTML (each body a section starting a page) and their anchors."""
    sections, anchors = [], []
    for index, html in enumerate(htmls):
        body = html.split("<body>", 1)[1].rsplit("</body>", 1)[0]
        anchors.append(f"kazbill-doc-{index}")
        sections.append(f'<section id="{anchors[-1]}" style="page-break-before: always">{body}</section>')
    return f'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>{"".join(sections)}</body></html>', anchors


class BatchRenderer(PdfRenderer):
    """An experiment, not in the product: several documents laid out in one pass and the pages
    split back into one PDF each. Its page footers count the batch's pages, not the document's,
    so the document workers keep to one document per layout; this measures what that costs."""

    def pdfs(self, htmls: list[str]) -> list[bytes]:
        from weasyprint import HTML

        combined, anchors = batched(htmls)
        document = HTML(string=combined, base_url=ASSETS.as_uri() + "/", url_fetcher=self.fetcher).render(
            stylesheets=[self.stylesheet], font_config=self.fonts
        )
        starts = [next(i for i, page in enumerate(document.pages) if anchor in page.anchors) for anchor in anchors]
        ends = starts[1:] + [len(document.pages)]
        return [document.copy(document.pages[start:end]).write_pdf() for start, end in zip(starts, ends, strict=True)]


def invoice(lines: int) -> str:
    rows = [
        InvoiceLine(
            "daily" if n % 3 else "monthly",
            "volna",
            f"Услуга № {n}",
            1 + n % 4,
            50_000,
            50_000 + n,
            (("2026-11-01", "2026-11-10"), ("2026-11-15", "2026-11-30")) if n % 3 else (),
        )
        for n in range(lines)
    ]
    return html_of(
        document_data(
            document_type="invoice",
            carrier=CARRIER,
            customer={"id": "a" * 32, "name": "Альфа Такси"},
            period_start=date(2026, 11, 1),
            period_end=date(2026, 11, 30),
            issued=date(2026, 11, 30),
            number="В-1",
            sequence_number=1,
            currency="RUB",
            language="ru",
            vat=VatPolicy("brutto", Decimal(20)),
            lines=rows,
        )
    )


def rate(label: str, count: int, action, figure: str = "", reference: str | None = None) -> float:
    started = time.perf_counter()
    action()
    per_second = count / (time.perf_counter() - started)
    print(f"  {label:<52}{per_second:>8.1f} documents/s")
    if figure:
        record(figure, per_second, "documents/s", reference=reference)
    return per_second


def _worker_render(args: tuple[str, int]) -> int:
    html, count = args
    renderer = PdfRenderer()
    for _ in range(count):
        renderer.pdf(html)
    return count


def rendering(documents: int, batch: int, workers: int) -> None:
    PdfRenderer().pdf(invoice(1))  # warm: imports, the font cache
    for label, lines in (("1-page invoice", 6), ("3-page invoice", 40)):
        html, key = invoice(lines), f"documents.{label.split('-')[0]}_page"
        fresh = f"{key}.fresh_renderer"  # the reference: one WeasyPrint render, nothing reused
        pages = len(__import__("weasyprint").HTML(string=html).render().pages)
        print(f"{label} ({pages} pages):")
        rate(
            "fresh renderer per document",
            documents,
            lambda html=html: [PdfRenderer().pdf(html) for _ in range(documents)],
            fresh,
        )
        kept = PdfRenderer()
        rate(
            "one renderer kept",
            documents,
            lambda html=html, kept=kept: [kept.pdf(html) for _ in range(documents)],
            f"{key}.renderer_kept",
            fresh,
        )
        batcher = BatchRenderer()
        rate(
            f"batches of {batch}, one layout each",
            documents,
            lambda html=html, batcher=batcher: [
                batcher.pdfs([html] * batch) for _ in range(max(1, documents // batch))
            ],
            f"{key}.batched_layout",
            fresh,
        )
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            pool.map(_worker_render, [(html, 1)] * workers)  # warm the workers
            share = max(1, documents // workers)
            rate(
                f"{workers} processes, renderer kept",
                share * workers,
                lambda html=html, share=share: pool.map(_worker_render, [(html, share)] * workers),
                f"{key}.worker_processes",
                fresh,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=40)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--accounts", type=int, default=0, help="a period end for this many accounts (0: skip)")
    args = parser.parse_args()
    print(
        f"rendering benchmark: {args.documents} documents per mode, WeasyPrint {__import__('weasyprint').__version__}"
    )
    rendering(args.documents, args.batch, args.workers)
    from bench.e_invoices import e_invoices

    e_invoices(args.documents, args.workers, rate)
    if args.accounts:
        from bench.period_end_documents import period_end

        period_end(args.accounts, args.workers, Path(tempfile.mkdtemp(prefix="kazbill-bench-documents-")))
    print(f"peak memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
