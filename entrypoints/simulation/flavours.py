"""The simulated cluster's ingredients: three flavours of reseller (currency, time zone,
locale, plan rates, whether phones are charged daily), the opening credit that carries a customer
through a run, the day's possible changes, and the seeded ids and Kazoo timestamps; a run's
scale and what it counted."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bookkeeper.domain.kazoo_names import gregorian_of

# Three reseller flavours, taken in turn: (currency, timezone, locale, plan rates, daily phones).
FLAVOURS = (
    (
        "RUB",
        "Europe/Moscow",
        "ru_RU",
        {
            "sip_device": 350_0000,
            "softphone": 150_0000,
            "user": 100_0000,
            "did": 250_0000,
            "tollfree": 900_0000,
            "trunk": 600_0000,
        },
        False,
    ),
    (
        "EUR",
        "Europe/Berlin",
        "en_GB",
        {
            "sip_device": 6_0000,
            "softphone": 3_0000,
            "user": 2_0000,
            "did": 3_0000,
            "tollfree": 9_0000,
            "trunk": 12_0000,
        },
        True,
    ),
    (
        "USD",
        "America/New_York",
        "en_US",
        {
            "sip_device": 7_0000,
            "softphone": 4_0000,
            "user": 3_0000,
            "did": 2_0000,
            "tollfree": 8_0000,
            "trunk": 15_0000,
        },
        False,
    ),
)
OPENING_CREDIT = {"RUB": 500_000_0000, "EUR": 5_000_0000, "USD": 5_000_0000}  # units: enough for the run
ACTIONS = ("add_device", "remove_device", "add_user", "remove_user", "add_number", "remove_number", "trunks", "payment")


def sim_id(seed: int, name: str) -> str:
    return hashlib.md5(f"kazbill-sim:{seed}:{name}".encode()).hexdigest()


def gregorian(moment: datetime) -> int:
    return gregorian_of(moment)


def plan(rates: dict[str, int]) -> dict[str, Any]:
    major = lambda units: units / 10_000  # noqa: E731 - plans are written in major units, as Kazoo's are
    return {
        "devices": {
            "sip_device": {"name": "Desk phone", "rate": major(rates["sip_device"])},
            "softphone": {"name": "Softphone", "rate": major(rates["softphone"])},
        },
        "users": {
            "user": {"name": "User", "rate": major(rates["user"])},
            "admin": {"name": "Admin", "rate": major(rates["user"])},
        },
        "phone_numbers": {
            "did": {"name": "City number", "rate": major(rates["did"])},
            "tollfree": {"name": "Toll-free number", "rate": major(rates["tollfree"])},
        },
        "limits": {"twoway_trunks": {"name": "Two-way trunk", "rate": major(rates["trunk"])}},
    }


@dataclass(frozen=True)
class Scale:
    resellers: int = 2
    accounts: int = 10  # customers at the start, spread over the resellers
    change_percent: int = 30  # chance that an account changes something on a given day
    signup_percent: int = 20  # chance per reseller per day that a new customer signs up
    seed: int = 1
    call_percent: int = 0  # chance that an account places calls to carriers on a given day
    close_percent: int = 0  # chance per reseller per day that one of its customers closes its account


@dataclass
class Counts:
    writes: int = 0
    signups: int = 0
    closes: int = 0
    payments: int = 0
    changes: dict[str, int] = field(default_factory=dict)
