"""Kazoo's database and document naming, in one place.

An account id is 32 characters (`[0-9a-z]`; Kazoo mints hex, its fixtures use letters too).
Its database is `account/<2>/<2>/<28>`; in URLs the slashes travel as `%2F`. The per-account,
per-month database ("modb") appends `-YYYYMM`, and monthly documents are named `YYYYMM-...`.
Kazoo itself accepts several spellings of the same database; so do we, and we hand back
the unencoded form, which is what CouchDB stores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, unquote

ACCOUNTS_DB = "accounts"
SERVICES_DB = "services"
SYSTEM_DB = "kazbill_system"  # Kazbill's own state: crawl records, checkpoints, the API token secret

ACCOUNT_ID_RE = re.compile(r"^[0-9a-z]{32}$")
_ACCOUNT_DB_RE = re.compile(
    r"^account/(?P<a>[0-9a-z]{2})/(?P<b>[0-9a-z]{2})/(?P<rest>[0-9a-z]{28})"
    r"(?:-(?P<year>\d{4})(?P<month>\d{2}))?$"
)
# pouchdb-server strips "/" from database names when it lists them ("accountaabb...");
# a 39-character name of this shape is only ever that spelling of an account database.
_COMPACT_ACCOUNT_DB_RE = re.compile(r"^account(?P<id>[0-9a-z]{32})(?:-(?P<year>\d{4})(?P<month>\d{2}))?$")
# CouchDB's own rule for database names.
_COUCH_DB_NAME_RE = re.compile(r"^[a-z][a-z0-9_$()+/-]*$")

GREGORIAN_UNIX_OFFSET = 62_167_219_200  # seconds from 0000-01-01 to 1970-01-01, Kazoo's epoch


class InvalidAccountId(ValueError):
    def __init__(self, value: object):
        super().__init__(f"invalid account id {value!r}: expected 32 characters [0-9a-z]")
        self.value = value


@dataclass(frozen=True)
class DbName:
    """A database name taken apart. `kind` is one of "account", "account-month",
    "accounts", "services", "system" (Kazbill's own) or "other"."""

    name: str
    kind: str
    account_id: str | None = None
    year: int | None = None
    month: int | None = None


def is_account_id(value: object) -> bool:
    return isinstance(value, str) and bool(ACCOUNT_ID_RE.match(value))


RATEDECK_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def ratedeck_db(reseller_id: str, deck: str) -> str:
    """A reseller's rate deck, one database each (Kazoo keeps decks in `ratedeck` databases too;
    the reseller's id in the name keeps one reseller's decks from another's)."""
    if not RATEDECK_NAME_RE.match(deck):
        raise ValueError(f"rate deck name {deck!r}: lowercase letters, digits, _ or -, at most 40")
    return f"ratedeck/{reseller_id}/{deck}"


def account_db(account_id: str) -> str:
    """`account/aa/bb/rest`, the unencoded form CouchDB stores."""
    raw = raw_account_id(account_id)
    return f"account/{raw[:2]}/{raw[2:4]}/{raw[4:]}"


def account_modb(account_id: str, year: int, month: int) -> str:
    if not (1 <= month <= 12) or not (1 <= year <= 9999):
        raise ValueError(f"invalid month {year:04d}-{month:02d} for a monthly database")
    return f"{account_db(account_id)}-{year:04d}{month:02d}"


def encode_db_name(db: str) -> str:
    """The form that goes into a URL path: `account%2Faa%2Fbb%2Frest`."""
    return quote(canonical_db_name(db), safe="")


def canonical_db_name(db: str) -> str:
    """Any accepted spelling → the unencoded name. Non-account names pass through."""
    if "%" in db:
        db = unquote(db)
    compact = _COMPACT_ACCOUNT_DB_RE.match(db)
    if compact:
        name = account_db(compact.group("id"))
        if compact.group("year"):
            name += f"-{compact.group('year')}{compact.group('month')}"
        return name
    return db


def parse_db_name(db: str) -> DbName:
    name = canonical_db_name(db)
    match = _ACCOUNT_DB_RE.match(name)
    if match:
        account_id = match.group("a") + match.group("b") + match.group("rest")
        if match.group("year"):
            return DbName(name, "account-month", account_id, int(match.group("year")), int(match.group("month")))
        return DbName(name, "account", account_id)
    if name == ACCOUNTS_DB:
        return DbName(name, "accounts")
    if name == SERVICES_DB:
        return DbName(name, "services")
    if name.startswith("kazbill_"):
        return DbName(name, "system")
    return DbName(name, "other")


def raw_account_id(value: str) -> str:
    """Account id from a raw id or any spelling of its account or monthly database."""
    if is_account_id(value):
        return value
    parsed = parse_db_name(value) if isinstance(value, str) else None
    if parsed is None or parsed.account_id is None:
        raise InvalidAccountId(value)
    return parsed.account_id


def database_name_problem(db: object) -> str | None:
    """Why CouchDB would refuse this database name, or None when it is valid."""
    if not isinstance(db, str) or not db:
        return "must be a non-empty string"
    if len(db) > 238:
        return "must be at most 238 characters"
    name = canonical_db_name(db)
    if not _COUCH_DB_NAME_RE.match(name):
        return "must start with a lowercase letter and contain only a-z 0-9 _ $ ( ) + - /"
    return None


def modb_doc_id(year: int, month: int, suffix: str) -> str:
    """Monthly documents carry their month in the id, as Kazoo's kazoo_modb does."""
    return f"{year:04d}{month:02d}-{suffix}"


def to_gregorian_seconds(unix_seconds: int) -> int:
    return int(unix_seconds) + GREGORIAN_UNIX_OFFSET


def gregorian_of(moment: datetime) -> int:
    """Kazoo's timestamp (Gregorian seconds, whole) of a timezone-aware moment."""
    return to_gregorian_seconds(int(moment.timestamp()))


def from_gregorian_seconds(gregorian_seconds: int) -> int:
    return int(gregorian_seconds) - GREGORIAN_UNIX_OFFSET
