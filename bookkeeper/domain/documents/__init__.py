"""The pure rules of end-of-period documents: VAT, amounts in words, invoice lines from the
ledger, carriers and numbering. No I/O: the services read the ledger and store the results."""
