"""What a Russian or German reader is told about an account's standing and its cancelled
services: the standing's English reasons translated part by part (amounts and days carried
over, days written the reader's way), trunks named by the plan or by Kazbill's words, never
"limits/twoway_trunks"; a reason not known is shown as it is rather than lost."""

from __future__ import annotations

import pytest

from bookkeeper.domain.standing_words import item_in, items_in, reason_in


@pytest.mark.parametrize(
    "reason, language, shown",
    [
        ("blocked automatically for lack of funds", "ru", "заблокирован автоматически из-за недостатка средств"),
        ("blocked automatically for lack of funds", "de", "automatisch gesperrt mangels Guthaben"),
        ("the period's charges are not covered", "ru", "расходы периода не покрыты"),
        (
            "balance -150.00 below credit line of 100.00, allowed in new-account grace through 2026-11-05",
            "ru",
            "баланс -150.00 ниже кредитного лимита 100.00, льготный период нового счёта до 05.11.2026",
        ),
        ("balance -1.00 below credit line", "de", "Guthaben -1.00 unter dem Kreditrahmen"),
        ("blocked manually", "en", "blocked manually"),
        ("a reason from a newer version", "ru", "a reason from a newer version"),
    ],
)
def test_a_standing_reason_in_the_readers_language(reason, language, shown):
    assert reason_in(reason, language) == shown


def test_cancelled_services_are_named_by_the_plan_else_by_kazbills_words():
    assert items_in([["limits", "twoway_trunks"]], ["Двусторонний транк"], "ru") == ["Двусторонний транк"]
    assert items_in([["limits", "twoway_trunks"]], None, "ru") == ["двусторонние транки"]
    assert items_in([["limits", "inbound_trunks"]], [], "de") == ["eingehende Trunks"]
    assert item_in("devices", "fax", "ru") == "devices/fax"  # nothing better to say: Kazoo's name
