"""End-of-period documents (invoices, acts, calls reports, pro-formas). Filled in by the documents issue."""
