"""Restart budgets, as OTP's supervisors keep them. Pure: the caller says what time it is."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class RestartBudget:
    """At most `intensity` restarts within any `period_s` seconds; one more means the fault is
    not transient, and restarting again would only hide it, so the supervisor gives up."""

    intensity: int
    period_s: float
    _restarts: deque[float] = field(default_factory=deque)

    def __post_init__(self) -> None:
        if self.intensity < 0 or self.period_s <= 0:
            raise ValueError("a restart budget needs intensity >= 0 and a period > 0")

    def allow(self, now: float) -> bool:
        """Records a restart at `now` if the budget allows it; False when it is spent."""
        while self._restarts and self._restarts[0] <= now - self.period_s:
            self._restarts.popleft()
        if len(self._restarts) >= self.intensity:
            return False
        self._restarts.append(now)
        return True
