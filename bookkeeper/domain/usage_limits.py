"""How much an account may have issued on demand: each pro-forma or document a customer asks for
is numbered in the reseller's sequence, rendered and emailed, at the reseller's cost and in the
document workers every reseller shares. So an account gets so many in any hour and so many in
any 24 hours (rolling windows: a burst at the turn of an hour gets no second allowance), and
the answer past them says which limit it met and when one is free again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WINDOWS = (("hour", 3_600), ("day", 86_400))


@dataclass(frozen=True)
class UsageLimit:
    kind: str  # what is counted, e.g. "proformas"
    per_hour: int  # 0: no limit
    per_day: int  # 0: no limit

    @property
    def limited(self) -> bool:
        return bool(self.per_hour or self.per_day)


@dataclass(frozen=True)
class OverLimit:
    kind: str
    window: str  # "hour" or "day"
    most: int
    retry_after_s: int  # until the oldest use that counts leaves the window

    @property
    def name(self) -> str:
        """The setting that says it: proformas_per_hour, documents_per_day..."""
        return f"{self.kind}_per_{self.window}"


@dataclass(frozen=True)
class UsageLimits:
    """One account's limits on what it may trigger, by what it costs the reseller."""

    proformas: UsageLimit = UsageLimit("proformas", 20, 100)
    documents: UsageLimit = UsageLimit("documents", 30, 200)  # invoices for a payment


def take(used_at: Sequence[int], now: int, limit: UsageLimit) -> tuple[list[int], OverLimit | None]:
    """The uses still inside the longest window with this one added, or, when a window is full,
    those uses unchanged and which limit refused it."""
    recent = sorted(moment for moment in used_at if moment > now - WINDOWS[-1][1])
    for window, seconds in WINDOWS:
        most = limit.per_hour if window == "hour" else limit.per_day
        inside = [moment for moment in recent if moment > now - seconds]
        if most and len(inside) >= most:
            frees_at = inside[len(inside) - most] + seconds
            return recent, OverLimit(limit.kind, window, most, max(frees_at - now, 1))
    return recent + [now], None
