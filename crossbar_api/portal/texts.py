"""The page's words, English and Russian; `?lang=` or the account's language picks."""
from __future__ import annotations

TEXTS = {
    "en": {
        "title": "Payments", "login": "Log in", "account_name": "Account name", "username": "User name",
        "password": "Password", "logout": "Log out", "balance": "Balance", "credit_line": "Credit line",
        "standing": "Standing", "good_standing": "in good standing", "delinquent": "payment overdue",
        "blocked": "service suspended", "period": "This billing period", "opening_balance": "Opening balance",
        "payments": "Payments", "monthly_fees": "Monthly fees", "per_minute_calls": "Calls (per minute)",
        "adjustments": "Adjustments", "amount_to_restore": "To restore service, pay at least",
        "legal": "Your details on invoices", "legal_name": "Name", "legal_address": "Address",
        "legal_registration": "Registration", "legal_inn": "INN", "legal_kpp": "KPP", "legal_vat_id": "VAT ID",
        "legal_country": "Country",
        "past_period": "Billing period", "closing_balance": "Balance at the end", "documents": "Documents",
        "document": "Document", "number": "No.", "period_of": "Period", "total": "Total",
        "being_prepared": "being prepared", "periods": "Billing periods", "period_open": "paid",
        "period_opening": "being opened", "period_pending": "unpaid", "doc_invoice": "Invoice", "doc_act": "Act",
        "doc_calls_report": "Calls report", "doc_proforma": "Pro-forma invoice",
        "doc_aggregated_invoice": "Invoice (all carriers)", "doc_transaction_invoice": "Invoice for a payment",
        "current_balance": "Current balance", "transactions": "Transactions", "date": "Date",
        "description": "Description", "amount": "Amount", "no_transactions": "No transactions yet in this period.",
        "pay_by_card": "Pay by card", "saved_cards": "Saved cards", "default": "default",
        "make_default": "Make default", "delete": "Delete", "add_card": "Save a card", "top_up": "Top up",
        "no_cards": "No saved card yet.", "paypal": "PayPal", "pay_with_paypal": "Pay with PayPal",
        "yandex_money": "YooMoney", "pay_with_yandex": "Pay with YooMoney", "pay_in_shop": "Pay by card (YooMoney)",
        "auto_topup": "Auto top-up", "enabled": "Enabled", "threshold": "When the balance falls below",
        "topup_amount": "charge the default card", "save": "Save", "switched_off": "Switched off",
        "proforma": "Pro-forma invoice for a bank transfer", "request": "Request",
        "done_topup": "Your card was charged; the balance is updated.", "done_card": "The card is saved.",
        "done_default": "The default card is changed.", "done_deleted": "The card is deleted.",
        "done_auto": "Auto top-up settings are saved.",
        "done_proforma": "Your pro-forma invoice is issued; it will be emailed to you and listed with your documents.",
        "bad_login": "Wrong account name, user name or password.",
        "card_form_note": "The card form is Braintree's; it loads from Braintree when you are online.",
    },
    "ru": {
        "title": "Оплата", "login": "Войти", "account_name": "Аккаунт", "username": "Пользователь",
        "password": "Пароль", "logout": "Выйти", "balance": "Баланс", "credit_line": "Кредитный лимит",
        "standing": "Состояние", "good_standing": "всё оплачено", "delinquent": "есть задолженность",
        "blocked": "обслуживание приостановлено", "period": "Текущий расчётный период",
        "opening_balance": "Баланс на начало", "payments": "Платежи", "monthly_fees": "Абонентская плата",
        "per_minute_calls": "Звонки (поминутно)", "current_balance": "Текущий баланс", "transactions": "Операции",
        "adjustments": "Корректировки", "amount_to_restore": "Для восстановления обслуживания оплатите не менее",
        "legal": "Ваши реквизиты в документах", "legal_name": "Наименование", "legal_address": "Адрес",
        "legal_registration": "ОГРН", "legal_inn": "ИНН", "legal_kpp": "КПП", "legal_vat_id": "VAT ID",
        "legal_country": "Страна",
        "past_period": "Расчётный период", "closing_balance": "Баланс на конец", "documents": "Документы",
        "document": "Документ", "number": "Номер", "period_of": "Период", "total": "Сумма",
        "being_prepared": "готовится", "periods": "Расчётные периоды", "period_open": "оплачен",
        "period_opening": "открывается", "period_pending": "не оплачен", "doc_invoice": "Счёт", "doc_act": "Акт",
        "doc_calls_report": "Детализация звонков", "doc_proforma": "Счёт на оплату",
        "doc_aggregated_invoice": "Сводный счёт", "doc_transaction_invoice": "Счёт на платёж",
        "date": "Дата", "description": "Описание", "amount": "Сумма",
        "no_transactions": "В этом периоде операций пока нет.", "pay_by_card": "Оплата картой",
        "saved_cards": "Сохранённые карты", "default": "основная", "make_default": "Сделать основной",
        "delete": "Удалить", "add_card": "Сохранить карту", "top_up": "Пополнить", "no_cards": "Карт пока нет.",
        "paypal": "PayPal", "pay_with_paypal": "Оплатить через PayPal", "yandex_money": "ЮMoney",
        "pay_with_yandex": "Оплатить через ЮMoney", "pay_in_shop": "Оплатить картой (ЮMoney)",
        "auto_topup": "Автопополнение", "enabled": "Включено", "threshold": "Когда баланс ниже",
        "topup_amount": "списать с основной карты", "save": "Сохранить", "switched_off": "Отключено",
        "proforma": "Счёт на оплату банковским переводом", "request": "Запросить",
        "done_topup": "Оплата прошла, баланс обновлён.", "done_card": "Карта сохранена.",
        "done_default": "Основная карта изменена.", "done_deleted": "Карта удалена.",
        "done_auto": "Настройки автопополнения сохранены.",
        "done_proforma": "Счёт на оплату выставлен и будет отправлен вам по почте.",
        "bad_login": "Неверный аккаунт, пользователь или пароль.",
        "card_form_note": "Форма карты — от Braintree, она загружается с их сервера.",
    },
}
LOCALES = {"en": "en_US", "ru": "ru_RU"}


def language_of(requested: str | None, account_language: str | None) -> str:
    for candidate in (requested, account_language):
        if candidate and candidate[:2].lower() in TEXTS:
            return candidate[:2].lower()
    return "en"
