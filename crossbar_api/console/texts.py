"""The console's words in English, Russian and German; `?lang=` or the caller's account picks.
Names of documents, standings and periods are the payments page's (crossbar_api/portal/texts.py),
so a reseller and its customer read the same word for the same thing."""

from __future__ import annotations

from crossbar_api.console.field_texts import FIELD_TEXTS
from crossbar_api.portal.texts import TEXTS as PAGE_TEXTS

_OWN = {
    "en": {
        "console": "Kazbill console",
        "audit_pending": (
            "This period is unpaid: its charges are written when it is paid, and until then the audit "
            "lists them as missing."
        ),
        "audit": "Audit of the ledger",
        "audit_clean": "Every charge is what the rules and the account's history call for.",
        "notices_sent": "Notices to the account's admins",
        "no_notices": "None yet.",
        "billed_in": "Billed",
        "by_category": "Billed by service",
        "category_devices": "Devices",
        "category_users": "Users",
        "category_phone_numbers": "Phone numbers",
        "category_limits": "Trunks",
        "category_calls": "Calls",
        "category_number_services": "Number features",
        "category_ips": "Dedicated IPs",
        "category_billing": "Account fees",
        "collected_in": "Collected",
        "settings": "Settings",
        "settings_saved": "Saved.",
        "webhooks": "Webhooks",
        "webhooks_explained": (
            "Kazbill POSTs the events you choose to your URL, signed: Kazbill-Signature t=<unix>,v1=HMAC-SHA256 "
            "of <t>.<body> with the secret. A receiver that fails is tried again for an hour."
        ),
        "events": "Events",
        "secret": "Secret",
        "send_test": "Send a test",
        "delete": "Delete",
        "attempts": "attempts",
        "add_webhook": "Add a webhook",
        "carriers": "Carriers and legal details",
        "carriers_explained": (
            "The legal entities that issue your documents: names, addresses, tax ids, bank details, numbering."
        ),
        "gateways": "Payment gateways",
        "templates": "Document templates",
        "templates_explained": (
            "Your own HTML template for a carrier's documents of one type; checked (a trial render) before it is used."
        ),
        "carrier": "Carrier",
        "check_and_save": "Check and save",
        "plans": "Plans",
        "new_plan": "A new plan",
        "plan_saved": "Saved",
        "plans_explained": (
            "Each plan's price list is its plan document, as Kazoo keeps it: categories (devices, users, "
            "phone_numbers, limits...), items, and per item its rate a month, and optionally names per "
            "language, a minimum, a step, a discount. Saving checks it whole; what is wrong is shown under it."
        ),
        "rate_decks": "Rate decks",
        "deck": "Deck",
        "upload": "Upload",
        "deck_format": (
            "CSV with a header: prefix, rate_cost (a minute), rate_increment and rate_minimum "
            "(seconds), and optionally direction, rate_name, carrier. The whole file is checked first: "
            "one bad line and nothing is imported."
        ),
        "deck_refused": "The deck was not imported. Fix these lines and upload it again:",
        "deck_imported": "Imported rates",
        "import_state": "Import",
        "rows_written": "rows written",
        "rate_lookup": "Look up a rate",
        "number": "Number",
        "seconds": "Seconds",
        "outbound": "outbound",
        "inbound": "inbound",
        "account_terms": "Terms",
        "plan": "Plan",
        "save": "Save",
        "allow_postpay": "Allow a negative balance",
        "extend_trial": "Extend the trial by",
        "end_trial": "End the trial now",
        "days": "days",
        "block_by_hand": "Block by hand",
        "unblock_by_hand": "Lift the manual block",
        "done_action_trial": "The trial was changed.",
        "done_action_limits": "The limits were saved.",
        "done_action_plan": "The plan was assigned.",
        "done_action_block": "The manual block was changed.",
        "dashboard": "Dashboard",
        "currency": "Currency",
        "mrr": "Monthly recurring",
        "delinquent_accounts": "Payment overdue",
        "blocked_accounts": "Suspended",
        "owed": "Owed",
        "mrr_explained": (
            "Monthly recurring: what the accounts' current services cost a month by their plans. "
            "Owed: what the accounts in debt must pay, a negative balance or an unpaid period. "
            "Billed and collected this month: per source and service. All as of each account's last billing "
            "pass (at the latest the day's crawl)."
        ),
        "waiting_failures": "Failures waiting for a person",
        "waiting_documents": "Documents not delivered",
        "nothing_waiting": "Nothing waits.",
        "customers": "Customers",
        "search": "Name or realm",
        "find": "Find",
        "all_standings": "Any standing",
        "only_blocked": "Blocked only",
        "only_trial": "On trial only",
        "children_only": "Direct customers only",
        "closed_accounts": "Closed accounts",
        "name": "Name",
        "realm": "Realm",
        "monthly": "Monthly",
        "trial": "trial",
        "next_page": "Next page",
        "first_page": "First page",
        "export_csv": "Export CSV",
        "none_found": "No customer matches.",
        "balance_as_of": "balance as of the last billing pass",
        "services": "Services",
        "item": "Item",
        "quantity": "Quantity",
        "rate": "Rate",
        "estimated_monthly": "Estimated monthly cost",
        "ledger": "Ledger of this period",
        "running_balance": "Balance",
        "opening": "Opening balance",
        "credit": "Credit",
        "debit": "Debit",
        "amount": "Amount",
        "reason": "Reason",
        "post": "Post",
        "reason_wire_transfer": "Wire transfer",
        "reason_manual_addition": "Manual addition",
        "reason_balance_correction": "Balance correction",
        "posted_credit": "The credit was posted.",
        "posted_debit": "The debit was posted.",
        "back_to_list": "All customers",
        "bad_amount": "Amount: ",
        "money_in_out": "Credit or debit",
    },
    "ru": {
        "console": "Консоль Kazbill",
        "audit_pending": (
            "Период не оплачен: его начисления записываются при оплате, а до тех пор проверка "
            "показывает их как отсутствующие."
        ),
        "audit": "Проверка начислений",
        "audit_clean": "Каждое начисление соответствует правилам и истории аккаунта.",
        "notices_sent": "Уведомления администраторам аккаунта",
        "no_notices": "Пока нет.",
        "billed_in": "Начислено",
        "by_category": "Начислено по услугам",
        "category_devices": "Устройства",
        "category_users": "Пользователи",
        "category_phone_numbers": "Номера",
        "category_limits": "Линии (транки)",
        "category_calls": "Звонки",
        "category_number_services": "Услуги номеров",
        "category_ips": "Выделенные IP",
        "category_billing": "Абонентская плата",
        "collected_in": "Оплачено",
        "settings": "Настройки",
        "settings_saved": "Сохранено.",
        "webhooks": "Вебхуки",
        "webhooks_explained": (
            "Kazbill отправляет выбранные события на ваш URL с подписью: Kazbill-Signature t=<unix>,v1=HMAC-SHA256 "
            "от <t>.<тело> с секретом. Если получатель не ответил, попытки повторяются в течение часа."
        ),
        "events": "События",
        "secret": "Секрет",
        "send_test": "Отправить тест",
        "delete": "Удалить",
        "attempts": "попыток",
        "add_webhook": "Добавить вебхук",
        "carriers": "Юрлица и реквизиты",
        "carriers_explained": (
            "Юрлица, от имени которых выставляются документы: названия, адреса, ИНН/КПП, банк, нумерация."
        ),
        "gateways": "Платёжные шлюзы",
        "templates": "Шаблоны документов",
        "templates_explained": (
            "Свой HTML-шаблон документов одного типа для юрлица; проверяется пробной вёрсткой перед использованием."
        ),
        "carrier": "Юрлицо",
        "check_and_save": "Проверить и сохранить",
        "plans": "Тарифы",
        "new_plan": "Новый тариф",
        "plan_saved": "Сохранено",
        "plans_explained": (
            "Прейскурант тарифа: документ плана, как его хранит Kazoo: категории (devices, users, "
            "phone_numbers, limits...), позиции и для каждой цена в месяц, по желанию названия на языках, "
            "минимум, шаг, скидка. При сохранении проверяется целиком; ошибки показаны под ним."
        ),
        "rate_decks": "Тарифные сетки",
        "deck": "Сетка",
        "upload": "Загрузить",
        "deck_format": (
            "CSV с заголовком: prefix, rate_cost (за минуту), rate_increment и rate_minimum (секунды), "
            "по желанию direction, rate_name, carrier. Сначала проверяется весь файл: одна ошибочная "
            "строка, и ничего не загружается."
        ),
        "deck_refused": "Сетка не загружена. Исправьте эти строки и загрузите снова:",
        "deck_imported": "Загружено тарифов",
        "import_state": "Загрузка",
        "rows_written": "строк записано",
        "rate_lookup": "Найти тариф",
        "number": "Номер",
        "seconds": "Секунд",
        "outbound": "исходящий",
        "inbound": "входящий",
        "account_terms": "Условия",
        "plan": "Тариф",
        "save": "Сохранить",
        "allow_postpay": "Разрешить отрицательный баланс",
        "extend_trial": "Продлить пробный период на",
        "end_trial": "Завершить пробный период",
        "days": "дней",
        "block_by_hand": "Заблокировать вручную",
        "unblock_by_hand": "Снять ручную блокировку",
        "done_action_trial": "Пробный период изменён.",
        "done_action_limits": "Лимиты сохранены.",
        "done_action_plan": "Тариф назначен.",
        "done_action_block": "Ручная блокировка изменена.",
        "dashboard": "Сводка",
        "currency": "Валюта",
        "mrr": "Ежемесячно",
        "delinquent_accounts": "Просрочена оплата",
        "blocked_accounts": "Приостановлены",
        "owed": "Задолженность",
        "mrr_explained": (
            "Ежемесячно: сколько стоят в месяц текущие услуги аккаунтов по их тарифам. "
            "Задолженность: сколько должны аккаунты с отрицательным балансом или неоплаченным периодом. "
            "Начислено и оплачено за месяц: по источникам и услугам. Всё на момент последнего расчёта "
            "каждого аккаунта (не позже ежедневного обхода)."
        ),
        "waiting_failures": "Ошибки, ждущие человека",
        "waiting_documents": "Недоставленные документы",
        "nothing_waiting": "Ничего не ждёт.",
        "customers": "Клиенты",
        "search": "Название или realm",
        "find": "Найти",
        "all_standings": "Любое состояние",
        "only_blocked": "Только заблокированные",
        "only_trial": "Только на пробном периоде",
        "children_only": "Только прямые клиенты",
        "closed_accounts": "Закрытые аккаунты",
        "name": "Название",
        "realm": "Realm",
        "monthly": "В месяц",
        "trial": "пробный период",
        "next_page": "Следующая страница",
        "first_page": "Первая страница",
        "export_csv": "Выгрузить CSV",
        "none_found": "Клиентов не найдено.",
        "balance_as_of": "баланс на момент последнего расчёта",
        "services": "Услуги",
        "item": "Позиция",
        "quantity": "Количество",
        "rate": "Цена",
        "estimated_monthly": "Ожидаемая сумма в месяц",
        "ledger": "Операции за период",
        "running_balance": "Баланс",
        "opening": "Входящий остаток",
        "credit": "Зачисление",
        "debit": "Списание",
        "amount": "Сумма",
        "reason": "Основание",
        "post": "Провести",
        "reason_wire_transfer": "Банковский перевод",
        "reason_manual_addition": "Ручное зачисление",
        "reason_balance_correction": "Корректировка баланса",
        "posted_credit": "Зачисление проведено.",
        "posted_debit": "Списание проведено.",
        "back_to_list": "Все клиенты",
        "bad_amount": "Сумма: ",
        "money_in_out": "Зачисление или списание",
    },
    "de": {
        "console": "Kazbill-Konsole",
        "audit_pending": (
            "Dieser Zeitraum ist unbezahlt: seine Belastungen werden bei Zahlung gebucht, bis dahin "
            "führt die Prüfung sie als fehlend."
        ),
        "audit": "Prüfung der Buchungen",
        "audit_clean": "Jede Belastung entspricht den Regeln und dem Verlauf des Kontos.",
        "notices_sent": "Benachrichtigungen an die Admins des Kontos",
        "no_notices": "Noch keine.",
        "billed_in": "Berechnet",
        "by_category": "Berechnet nach Leistung",
        "category_devices": "Geräte",
        "category_users": "Benutzer",
        "category_phone_numbers": "Rufnummern",
        "category_limits": "Leitungen (Trunks)",
        "category_calls": "Anrufe",
        "category_number_services": "Rufnummern-Funktionen",
        "category_ips": "Feste IP-Adressen",
        "category_billing": "Kontogebühren",
        "collected_in": "Eingegangen",
        "settings": "Einstellungen",
        "settings_saved": "Gespeichert.",
        "webhooks": "Webhooks",
        "webhooks_explained": (
            "Kazbill sendet die gewählten Ereignisse signiert an Ihre URL: Kazbill-Signature t=<unix>,v1=HMAC-SHA256 "
            "über <t>.<Body> mit dem Geheimnis. Antwortet der Empfänger nicht, "
            "wird es eine Stunde lang erneut versucht."
        ),
        "events": "Ereignisse",
        "secret": "Geheimnis",
        "send_test": "Test senden",
        "delete": "Löschen",
        "attempts": "Versuche",
        "add_webhook": "Webhook hinzufügen",
        "carriers": "Rechnungssteller und Angaben",
        "carriers_explained": (
            "Die Gesellschaften, die Ihre Dokumente ausstellen: Namen, Anschriften, Steuernummern, Bank, Nummernkreise."
        ),
        "gateways": "Zahlungsanbieter",
        "templates": "Dokumentvorlagen",
        "templates_explained": (
            "Ihre eigene HTML-Vorlage für die Dokumente eines Typs eines Rechnungsstellers; vor der "
            "Verwendung probegesetzt."
        ),
        "carrier": "Rechnungssteller",
        "check_and_save": "Prüfen und speichern",
        "plans": "Tarife",
        "new_plan": "Ein neuer Tarif",
        "plan_saved": "Gespeichert",
        "plans_explained": (
            "Die Preisliste eines Tarifs ist sein Plandokument, wie Kazoo es hält: Kategorien (devices, "
            "users, phone_numbers, limits...), Posten und je Posten der Monatspreis, wahlweise Namen je "
            "Sprache, Minimum, Schritt, Rabatt. Beim Speichern wird er ganz geprüft; Fehler stehen darunter."
        ),
        "rate_decks": "Tariftabellen",
        "deck": "Tabelle",
        "upload": "Hochladen",
        "deck_format": (
            "CSV mit Kopfzeile: prefix, rate_cost (pro Minute), rate_increment und rate_minimum "
            "(Sekunden), wahlweise direction, rate_name, carrier. Zuerst wird die ganze Datei geprüft: "
            "eine fehlerhafte Zeile, und nichts wird importiert."
        ),
        "deck_refused": (
            "Die Tabelle wurde nicht importiert. Korrigieren Sie diese Zeilen und laden Sie sie erneut hoch:"
        ),
        "deck_imported": "Importierte Tarife",
        "import_state": "Import",
        "rows_written": "Zeilen geschrieben",
        "rate_lookup": "Tarif nachschlagen",
        "number": "Nummer",
        "seconds": "Sekunden",
        "outbound": "abgehend",
        "inbound": "ankommend",
        "account_terms": "Konditionen",
        "plan": "Tarif",
        "save": "Speichern",
        "allow_postpay": "Negativen Saldo erlauben",
        "extend_trial": "Testphase verlängern um",
        "end_trial": "Testphase jetzt beenden",
        "days": "Tage",
        "block_by_hand": "Manuell sperren",
        "unblock_by_hand": "Manuelle Sperre aufheben",
        "done_action_trial": "Die Testphase wurde geändert.",
        "done_action_limits": "Die Limits wurden gespeichert.",
        "done_action_plan": "Der Tarif wurde zugewiesen.",
        "done_action_block": "Die manuelle Sperre wurde geändert.",
        "dashboard": "Übersicht",
        "currency": "Währung",
        "mrr": "Monatlich wiederkehrend",
        "delinquent_accounts": "Zahlung überfällig",
        "blocked_accounts": "Gesperrt",
        "owed": "Offen",
        "mrr_explained": (
            "Monatlich wiederkehrend: was die aktuellen Leistungen der Konten nach ihren Tarifen im Monat kosten. "
            "Offen: was die Konten mit negativem Saldo oder unbezahltem Zeitraum zahlen müssen. "
            "Berechnet und eingegangen im Monat: je Quelle und Leistung. Alles zum Stand des letzten "
            "Abrechnungslaufs jedes Kontos (spätestens der tägliche Lauf)."
        ),
        "waiting_failures": "Fehler, die auf einen Menschen warten",
        "waiting_documents": "Nicht zugestellte Dokumente",
        "nothing_waiting": "Nichts wartet.",
        "customers": "Kunden",
        "search": "Name oder Realm",
        "find": "Suchen",
        "all_standings": "Jeder Status",
        "only_blocked": "Nur gesperrte",
        "only_trial": "Nur im Test",
        "children_only": "Nur direkte Kunden",
        "closed_accounts": "Geschlossene Konten",
        "name": "Name",
        "realm": "Realm",
        "monthly": "Monatlich",
        "trial": "Testphase",
        "next_page": "Nächste Seite",
        "first_page": "Erste Seite",
        "export_csv": "CSV exportieren",
        "none_found": "Kein Kunde gefunden.",
        "balance_as_of": "Saldo zum letzten Abrechnungslauf",
        "services": "Leistungen",
        "item": "Posten",
        "quantity": "Menge",
        "rate": "Preis",
        "estimated_monthly": "Voraussichtlich pro Monat",
        "ledger": "Buchungen dieses Zeitraums",
        "running_balance": "Saldo",
        "opening": "Anfangssaldo",
        "credit": "Gutschrift",
        "debit": "Belastung",
        "amount": "Betrag",
        "reason": "Grund",
        "post": "Buchen",
        "reason_wire_transfer": "Überweisung",
        "reason_manual_addition": "Manuelle Gutschrift",
        "reason_balance_correction": "Saldokorrektur",
        "posted_credit": "Die Gutschrift wurde gebucht.",
        "posted_debit": "Die Belastung wurde gebucht.",
        "back_to_list": "Alle Kunden",
        "bad_amount": "Betrag: ",
        "money_in_out": "Gutschrift oder Belastung",
    },
}

TEXTS = {lang: {**PAGE_TEXTS[lang], **words, **FIELD_TEXTS[lang]} for lang, words in _OWN.items()}
