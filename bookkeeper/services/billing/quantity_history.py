"""An account's quantity history, read from its documents' own timestamps.

Users, devices and periodic fees become lifelines (created at `pvt_created`, gone at the
`pvt_modified` of their soft delete), and so do Kazoo 4's number documents (in service since
their last `pvt_modified`). The trunks of `limits` and the numbers of the older single
`phone_numbers` document keep no history: their current values are known from that document's
last `pvt_modified` on.

A timestamp Kazbill cannot believe (missing, not a number, or later than now beyond clock
skew) is not guessed at: the change is billed from when Kazbill first saw it, that moment is
kept on the account (`kazbill_first_seen`) so every later pass and the audit date it the same
way, and the document is recorded once in kazbill_failures with the field named.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from bookkeeper.domain.history import Lifeline, QuantityHistory, Snapshot
from bookkeeper.domain.kazoo_names import GREGORIAN_UNIX_OFFSET, account_db
from bookkeeper.domain.quantities import BILLABLE_NUMBER_STATES, Quantities, classify_number
from bookkeeper.ports import Conflict, DocumentStore, NotFound
from bookkeeper.services.billing.holdings import read_holdings
from bookkeeper.services.setup.failures import record_failure

LIFETIME_CATEGORIES = ("users", "devices", "periodic_fees")
NUMBER_CATEGORIES = frozenset({"phone_numbers", "number_services"})
FIRST_SEEN_DOC = "kazbill_first_seen"
CLOCK_SKEW_S = 300  # Kazoo's nodes and Kazbill's may disagree by this much without anyone lying
FIRST_SEEN_ATTEMPTS = 3

Rows = Iterable[tuple[Any, Any, str | None]]  # (key, value, doc id) of a view


class _Moments:
    """Decides the moment of each document's change, remembering the ones it had to supply."""

    def __init__(self, store: DocumentStore, account_id: str, now: int, read_at: int | None = None):
        self.store, self.account_id, self.now = store, account_id, now
        # A pass dates itself when it starts; a document written while it runs (seconds later,
        # or hours later in an accelerated run) is not from the future: it is believed up to
        # when the documents were read, and taken at the pass's moment like a clock a bit ahead.
        self.latest = max(now, read_at or now)
        self._seen: dict[str, int] | None = None
        self._new: dict[str, tuple[int, str, Any]] = {}
        self._kept: set[str] = set()

    def believable(self, value: Any) -> int | None:
        if type(value) is not int or value < GREGORIAN_UNIX_OFFSET or value > self.latest + CLOCK_SKEW_S:
            return None
        return min(value, self.now)  # a few seconds ahead is a clock, not a lie

    def of(self, key: str, value: Any, field: str, *, keep: bool = True) -> int:
        """The document's own moment if it can be believed, else the one it was first seen at
        (`keep`: remembered for the next passes; else it is now, every time)."""
        moment = self.believable(value)
        if moment is not None:
            return moment
        seen = self._first_seen().get(key) if keep else None
        if seen is None:
            seen = self.now
            self._new[key] = (seen, field, value)
            if keep:
                self._kept.add(key)
        return seen

    def _first_seen(self) -> dict[str, int]:
        if self._seen is None:
            try:
                doc = self.store.get(account_db(self.account_id), FIRST_SEEN_DOC)
            except NotFound:
                doc = {}
            self._seen = dict(doc.get("moments") or {})
        return self._seen

    def remember(self) -> None:
        """Keeps the moments supplied in this pass, and records each document once."""
        if not self._new:
            return
        db = account_db(self.account_id)
        for attempt in range(FIRST_SEEN_ATTEMPTS if self._kept else 0):
            try:
                doc = self.store.get(db, FIRST_SEEN_DOC)
            except NotFound:
                doc = {"_id": FIRST_SEEN_DOC, "pvt_type": "kazbill_first_seen", "moments": {}}
            moments = {key: seen for key, (seen, _, _) in self._new.items() if key in self._kept}
            moments |= dict(doc.get("moments") or {})
            try:
                self.store.put(db, {**doc, "moments": moments, "pvt_modified": self.now})
                break
            except Conflict:
                if attempt == FIRST_SEEN_ATTEMPTS - 1:
                    raise
        for key, (_seen, field, value) in self._new.items():
            record_failure(
                self.store,
                source="bookkeeper",
                reason_code="untrusted_timestamp",
                reason=f"{field} is {value!r}: the change is billed from when Kazbill first saw it",
                payload={"account_id": self.account_id, "document": key, field: value},
                account_id=self.account_id,
                now_gregorian=self.now,
                field=f"{key}.{field}",
            )
        self._new = {}


def load_history(
    store: DocumentStore,
    account_id: str,
    *,
    lifetimes: Rows,
    numbers: Rows,
    limits: Mapping[str, Any] | None,
    now_quantities: Quantities,
    now: int,
    cascading: Iterable[str] = (),
    remember: bool = True,
    read_at: int | None = None,
) -> QuantityHistory:
    """The history of `account_id` up to `now` (Gregorian seconds). `cascading` categories
    count other accounts' documents too: they are known only now. Without `remember` (the
    audit), moments supplied for untrusted timestamps are neither kept nor recorded."""
    moments = _Moments(store, account_id, now, read_at)
    with_history = set(LIFETIME_CATEGORIES) - set(cascading)
    lifelines = []
    for key, value, doc_id in lifetimes:
        if not isinstance(key, list) or len(key) != 2 or key[0] not in with_history:
            continue
        created, deleted, modified, count = value
        start = moments.of(str(doc_id), created, "pvt_created")
        end = moments.of(f"{doc_id}/deleted", modified, "pvt_modified") if deleted else None
        lifelines.append(Lifeline(key[0], key[1], start, max(start, end) if end is not None else None, count))
    snapshots = []
    if "limits" not in cascading:
        known_from = (
            0
            if limits is None
            else moments.of(f"limits@{limits.get('_rev')}", limits.get("pvt_modified"), "pvt_modified")
        )
        snapshots.append(Snapshot(frozenset({"limits"}), _only(now_quantities, {"limits"}), known_from))
    numbers = list(numbers)
    if not NUMBER_CATEGORIES & set(cascading):
        if all(doc_id == key for key, _, doc_id in numbers):
            # Kazoo 4: one document per number, each in service since its last modification
            # (its creation is the number's, often long before this account had it).
            lifelines += _number_lifelines(numbers, moments)
            with_history |= NUMBER_CATEGORIES
        else:
            # The older single phone_numbers document (Kazoo 3): one moment for all its numbers.
            # A document without a moment to believe: the numbers are known as of now (a moment
            # that moves with each pass; what it let through is charged by the first one).
            known_from = max(
                (
                    moments.of(
                        str(doc_id),
                        value.get("modified") if isinstance(value, Mapping) else None,
                        "pvt_modified",
                        keep=False,
                    )
                    for _, value, doc_id in numbers
                ),
                default=0,
            )
            snapshots.append(Snapshot(NUMBER_CATEGORIES, _only(now_quantities, NUMBER_CATEGORIES), known_from))
    if remember:
        moments.remember()
    return QuantityHistory(tuple(lifelines), tuple(snapshots), frozenset(with_history))


def _number_lifelines(numbers: Rows, moments: _Moments) -> list[Lifeline]:
    lines = []
    for number, value, doc_id in numbers:
        if not isinstance(value, Mapping) or value.get("state") not in BILLABLE_NUMBER_STATES:
            continue
        features = value.get("features") or []
        if not isinstance(features, list) or not all(isinstance(feature, str) for feature in features):
            continue  # counting refuses it by name (quantities_from_views); nothing to date
        start = moments.of(str(doc_id), value.get("modified"), "pvt_modified")
        lines.append(Lifeline("phone_numbers", classify_number(str(number)), start, None, 1))
        lines += [Lifeline("number_services", feature, start, None, 1) for feature in features]
    return lines


def _only(quantities: Quantities, categories: Iterable[str]) -> Quantities:
    wanted = set(categories)
    return {category: dict(items) for category, items in quantities.items() if category in wanted}


def account_history(
    store: DocumentStore,
    account_id: str,
    *,
    limits: Mapping[str, Any] | None,
    now_quantities: Quantities,
    now: int,
    cascading: Iterable[str] = (),
    remember: bool = True,
    clock: Callable[[], int] | None = None,
) -> QuantityHistory:
    """`load_history` over the account's holdings (holdings.py); `clock` (Gregorian seconds),
    read once they are, bounds what a document's timestamp may say."""
    held = read_holdings(store, account_id)
    return load_history(
        store,
        account_id,
        lifetimes=held.lifetimes,
        numbers=held.numbers,
        limits=limits,
        now_quantities=now_quantities,
        now=now,
        cascading=cascading,
        remember=remember,
        read_at=clock() if clock else None,
    )
