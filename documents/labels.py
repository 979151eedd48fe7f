"""The words of the default templates, per language."""
from __future__ import annotations

LABELS = {
    "en": {
        "invoice": "Invoice", "act": "Certificate of services rendered", "no": "No.", "of": "of",
        "legal_inn": "INN", "legal_kpp": "KPP", "legal_vat_id": "VAT ID", "legal_registration": "Registration",
        "legal_address": "", "legal_country": "",
        "period": "Billing period", "supplier": "Supplier", "customer": "Customer", "bank": "Bank details",
        "item": "Description", "code": "code", "quantity": "Qty", "rate": "Price", "net": "Net", "vat": "VAT", "gross": "Total",
        "vat_rate": "VAT rate", "no_vat": "VAT not applicable", "total_net": "Total net", "total_vat": "Total VAT",
        "total": "Total due", "in_words": "Amount in words", "days": "days", "calls": ("call", "calls"), "minutes": "min",
        "per_minute": "Telephone calls (per-minute)", "prorated": "part of the period",
        "act_text": "The services listed above were rendered in full and on time; the customer has no claims "
                    "as to their scope, quality or timing.",
        "supplier_signature": "For the supplier", "customer_signature": "For the customer",
        "vat_included": "VAT included", "vat_added": "VAT added",
        "aggregated_invoice": "Aggregated invoice", "calls_report": "Calls report",
        "transaction_invoice": "Invoice for a payment", "paid_on": "Paid on",
        "payment_for": "Telecom services, paid in advance", "call_ended": "Ended", "call_number": "Number called",
        "call_caller": "Caller", "call_duration": "Billed, min:s",
        "proforma": "Pro-forma invoice", "valid_until": "Valid until", "advance": "Advance payment for telecom services",
        "proforma_text": "Paying this invoice tops up the account's balance. Please quote its number in the payment "
                         "reference.",
    },
    "ru": {
        "invoice": "Счёт", "act": "Акт оказанных услуг", "no": "№", "of": "от",
        "legal_inn": "ИНН", "legal_kpp": "КПП", "legal_vat_id": "VAT ID", "legal_registration": "ОГРН",
        "legal_address": "", "legal_country": "",
        "period": "Расчётный период", "supplier": "Исполнитель", "customer": "Заказчик", "bank": "Банковские реквизиты",
        "item": "Наименование", "code": "код", "quantity": "Кол-во", "rate": "Цена", "net": "Сумма без НДС", "vat": "НДС",
        "gross": "Всего", "vat_rate": "Ставка НДС", "no_vat": "Без НДС", "total_net": "Итого без НДС",
        "total_vat": "Итого НДС", "total": "Всего к оплате", "in_words": "Сумма прописью", "days": "дн.",
        "calls": ("звонок", "звонка", "звонков"), "minutes": "мин", "per_minute": "Услуги связи (поминутно)", "prorated": "часть периода",
        "act_text": "Вышеперечисленные услуги оказаны полностью и в срок. Заказчик претензий по объёму, качеству "
                    "и срокам оказания услуг не имеет.",
        "supplier_signature": "От исполнителя", "customer_signature": "От заказчика",
        "vat_included": "НДС включён", "vat_added": "НДС сверху",
        "aggregated_invoice": "Сводный счёт", "calls_report": "Детализация звонков",
        "transaction_invoice": "Счёт к платежу", "paid_on": "Дата оплаты", "payment_for": "Услуги связи, предоплата", "call_ended": "Окончание", "call_number": "Набранный номер",
        "call_caller": "Звонивший", "call_duration": "Тариф., мин:с",
        "proforma": "Счёт на оплату", "valid_until": "Действителен до", "advance": "Аванс за услуги связи",
        "proforma_text": "Оплата счёта пополняет баланс лицевого счёта. Пожалуйста, укажите номер счёта в "
                         "назначении платежа.",
    },
}
