"""End-of-period documents: the default Jinja2 templates (Russian and English), the labels and
number formats of each language, and the one module that calls WeasyPrint (render.py). The rules
of what a document holds (lines, VAT, numbering, amounts in words) are in bookkeeper.domain.documents."""
