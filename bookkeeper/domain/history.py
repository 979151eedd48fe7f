"""What an account held at any past moment, from the moments Kazoo's documents carry.

Billing charges a change from the moment it happened in Kazoo, however late Kazbill learns of
it (a slow feed, a service restart, a change that reaches the bookkeeper after the day's
crawl): the same month costs the same on every store and at every feed speed.

Two kinds of record say when:
- a `Lifeline` is one document that counted for an item from `start` until `end` (users,
  devices and periodic fees: created, and soft-deleted at their last modification);
- a `Snapshot` is what a document that keeps no history holds now (the trunks of `limits`,
  the account's phone numbers), true since `known_from`, the document's last modification.
  Before that moment its categories are unknown: no change is dated there, neither a charge
  nor a credit, because nothing says what they were.

Categories neither kind covers (cascaded counts spanning other accounts) are known only now.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bookkeeper.domain.quantities import Quantities

MomentQuantities = tuple[Quantities, frozenset[str]]  # what was held, and the categories known then


@dataclass(frozen=True)
class Lifeline:
    category: str
    item: str
    start: int  # Gregorian seconds
    end: int | None  # None: it still counts
    count: int


@dataclass(frozen=True)
class Snapshot:
    categories: frozenset[str]
    quantities: Quantities  # only the snapshot's categories
    known_from: int  # Gregorian seconds


@dataclass(frozen=True)
class QuantityHistory:
    lifelines: tuple[Lifeline, ...]
    snapshots: tuple[Snapshot, ...]
    lifeline_categories: frozenset[str]

    def at(self, moment: int) -> MomentQuantities:
        """What the account held at `moment` (a change at exactly that moment included), and
        the categories known then; any other category is to be left as it was charged."""
        held: dict[str, dict[str, int]] = {}
        for line in self.lifelines:
            if line.start <= moment and (line.end is None or line.end > moment):
                items = held.setdefault(line.category, {})
                items[line.item] = items.get(line.item, 0) + line.count
        known = set(self.lifeline_categories)
        for snapshot in self.snapshots:
            if snapshot.known_from <= moment:
                known |= snapshot.categories
                held.update({category: dict(items) for category, items in snapshot.quantities.items()})
        return {category: items for category, items in held.items() if category in known}, frozenset(known)

    def moments(self, after: int, until: int) -> list[int]:
        """Every moment in (after, until] at which something the history covers changed."""
        found = {
            moment
            for line in self.lifelines
            for moment in (line.start, line.end)
            if moment is not None and after < moment <= until
        }
        found |= {snapshot.known_from for snapshot in self.snapshots if after < snapshot.known_from <= until}
        return sorted(found)

    def highest(self, start: int, end: int) -> MomentQuantities:
        """Per item, the most the account held at any moment of [start, end) that is known:
        what a day's daily fee is priced at. A category known at none of them stays unknown."""
        highest: dict[str, dict[str, int]] = {}
        known: set[str] = set()
        for moment in [start, *self.moments(start, end - 1)]:
            held, known_then = self.at(moment)
            known |= known_then
            highest = merged(highest, held)
        return highest, frozenset(known)


def merged(first: Quantities, second: Mapping[str, Mapping[str, int]]) -> Quantities:
    """Per item, the larger of the two."""
    result = {category: dict(items) for category, items in first.items()}
    for category, items in second.items():
        mine = result.setdefault(category, {})
        for item, count in items.items():
            mine[item] = max(mine.get(item, 0), count)
    return result


def known_only(quantities: Quantities, known: Iterable[str]) -> Quantities:
    kept = set(known)
    return {category: items for category, items in quantities.items() if category in kept}
