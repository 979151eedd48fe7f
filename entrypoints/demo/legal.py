"""Who issues the demo's documents and whom they are made out to: each reseller's carrier (the
legal entity on its invoices) with its VAT, and each customer's legal details as a reseller would
set them through `PATCH onbill` (Russian INNs with valid check digits, EU VAT IDs in their
country's format). Without them a reseller can issue no document at all (docs/documents.md)."""

from __future__ import annotations

from typing import Any

# Prices include VAT (brutto), so the demo's charges are the same to the kopeck with or without
# documents; the invoices take the VAT out of them.
RESELLER_VAT: dict[str, dict[str, Any]] = {
    "Volna Telecom": {"vat_disposition": "brutto", "vat_rate": 20},
    "Nordic Voice": {"vat_disposition": "brutto", "vat_rate": 19},
}

CARRIERS: dict[str, list[dict[str, Any]]] = {
    "Volna Telecom": [
        {
            "id": "volna",
            "name": "ООО «Волна Телеком»",
            "main": True,
            "legal": {
                "address": "125009, Москва, ул. Тверская, д. 1",
                "inn": "7701012342",
                "kpp": "770101001",
            },
            "bank": {"bank": "ПАО Сбербанк, БИК 044525225", "account": "р/с 40702810938000000001"},
            "document_types": ["invoice", "act"],
            "numbering": {"invoice": {"start": 100, "format": "В-{year}-{number}"}, "act": {"follows": "invoice"}},
        }
    ],
    "Nordic Voice": [
        {
            "id": "nordic",
            "name": "Nordic Voice GmbH",
            "main": True,
            "legal": {
                "address": "Friedrichstraße 1, 10117 Berlin",
                "country": "DE",
                "vat_id": "DE811234567",
            },
            "bank": {"iban": "DE89 3704 0044 0532 0130 00"},
            "document_types": ["invoice"],
            "numbering": {"invoice": {"start": 1, "format": "NV-{year}-{number}"}},
        }
    ],
}

BUYERS: dict[str, dict[str, str]] = {
    "Alpha Taxi": {
        "name": "ООО «Альфа Такси»",
        "address": "115054, Москва, ул. Валовая, д. 8",
        "inn": "7705123452",
        "kpp": "770501001",
    },
    "Beta Clinic": {
        "name": "ООО «Бета Клиника»",
        "address": "123100, Москва, Пресненская наб., д. 10",
        "inn": "7722987653",
        "kpp": "772201001",
    },
    "Gamma Shop": {
        "name": "ООО «Гамма Шоп»",
        "address": "141400, Химки, ул. Ленинградская, д. 3",
        "inn": "5047112238",
        "kpp": "504701001",
    },
    "Fjord Design": {
        "name": "Fjord Design GmbH",
        "address": "Torstraße 5",
        "postcode": "10119",
        "city": "Berlin",
        "country": "DE",
        "vat_id": "DE987654321",
    },
    "Kiel Logistics": {
        "name": "Kiel Logistics GmbH",
        "address": "Kaistraße 12",
        "postcode": "24103",
        "city": "Kiel",
        "country": "DE",
        "vat_id": "DE123456789",
    },
    "Lund Studio": {
        "name": "Lund Studio UG",
        "address": "Oranienstraße 20",
        "postcode": "10999",
        "city": "Berlin",
        "country": "DE",
        "vat_id": "DE234567891",
    },
}
