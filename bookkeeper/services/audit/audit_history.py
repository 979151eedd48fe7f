"""Accounts' quantities day by day, as a file: what `kazbill simulate` knows to be true and
`kazbill audit --history` recomputes the charges from (Kazoo keeps no history of limits or
numbers, so an audit of a simulated run needs the simulator's)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from bookkeeper.domain.audit import Timeline
from bookkeeper.domain.kazoo_names import is_account_id

FORMAT = "kazbill-history/1"


class HistoryError(ValueError):
    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


def write_history(path: str | Path, histories: Mapping[str, Timeline]) -> None:
    body = {
        "format": FORMAT,
        "accounts": {
            account: [[day.isoformat(), quantities] for day, quantities in timeline]
            for account, timeline in sorted(histories.items())
        },
    }
    Path(path).write_text(json.dumps(body, indent=1, sort_keys=True))


def read_history(path: str | Path) -> dict[str, Timeline]:
    try:
        body = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise HistoryError("history", f"cannot be read as JSON: {error}") from None
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise HistoryError("format", f"must be {FORMAT!r}")
    accounts = body.get("accounts")
    if not isinstance(accounts, dict):
        raise HistoryError("accounts", "must be an object of account id → days")
    return {account: _timeline(account, days) for account, days in accounts.items()}


def _timeline(account: str, days: Any) -> Timeline:
    if not is_account_id(account):
        raise HistoryError(f"accounts.{account}", "not a Kazoo account id")
    if not isinstance(days, list):
        raise HistoryError(f"accounts.{account}", "must be a list of [day, quantities]")
    timeline = []
    for n, step in enumerate(days):
        where = f"accounts.{account}[{n}]"
        if not (isinstance(step, list) and len(step) == 2 and isinstance(step[1], dict)):
            raise HistoryError(where, "must be [YYYY-MM-DD, {category: {item: count}}]")
        try:
            day = date.fromisoformat(step[0])
        except (TypeError, ValueError):
            raise HistoryError(f"{where}[0]", "must be a day, YYYY-MM-DD") from None
        for category, items in step[1].items():
            if not isinstance(items, dict) or not all(
                isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in items.values()
            ):
                raise HistoryError(f"{where}.{category}", "must map items to whole counts")
        timeline.append((day, step[1]))
    return timeline
