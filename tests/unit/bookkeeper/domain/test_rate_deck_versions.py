"""A deck's pointer: an import claims it, only the import that claimed it last may switch it, and
what the switch replaced is listed for removal."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.domain.rate_deck_versions import DeckPointer, DeckSuperseded, version_db


def test_a_claimed_version_becomes_the_deck_and_the_old_one_is_replaced():
    old = DeckPointer.parse(DeckPointer.parse(None).claimed_by("a1", None, 10))
    old = DeckPointer.parse(old.switched_to("a1", "ratedeck/r/retail/version-a1", 3, 11))
    claimed = DeckPointer.parse(old.claimed_by("b2", "job-1", 20))
    assert (claimed.active_version, claimed.importing, claimed.versions) == ("a1", "b2", ("a1", "b2"))
    assert claimed.replaced() == ()  # the active one is read, the claimed one is being written
    switched = DeckPointer.parse(claimed.switched_to("b2", "ratedeck/r/retail/version-b2", 5, 21))
    assert (switched.active_version, switched.rates, switched.importing, switched.replaced()) == (
        "b2",
        5,
        None,
        ("a1",),
    )
    assert DeckPointer.parse(switched.without(("a1",))).versions == ("b2",)


def test_an_import_overtaken_by_a_later_one_cannot_switch_the_deck():
    first = DeckPointer.parse(DeckPointer.parse(None).claimed_by("a1", None, 10))
    second = DeckPointer.parse(first.claimed_by("b2", None, 11))
    with pytest.raises(DeckSuperseded):
        second.switched_to("a1", "ratedeck/r/retail/version-a1", 3, 12)
    assert second.replaced() == ("a1",)  # the overtaken version is removed by the next switch


def test_a_version_name_cannot_reach_outside_its_deck():
    assert version_db("ratedeck/r/retail", "a1") == "ratedeck/r/retail/version-a1"
    for refused in ("../x", "A1", "", "a 1", "ä1"):
        with pytest.raises(ValueError):
            version_db("ratedeck/r/retail", refused)


def test_a_version_of_digits_only_is_a_version():
    # Found by a clean-clone run: uuid4().hex[:20] came out '62153336006740088523', which
    # str.islower() calls not lowercase, and the reseller's deck import failed.
    assert version_db("ratedeck/r/retail", "62153336006740088523") == "ratedeck/r/retail/version-62153336006740088523"


@given(st.uuids(version=4))
def test_every_version_an_import_can_draw_is_accepted(drawn):
    assert version_db("ratedeck/r/retail", drawn.hex[:20]).endswith(drawn.hex[:20])
