"""Keys and gateway ids inside document ids: distinct keys give distinct ids, the key can be read
back exactly, and the keys the old slug already kept as they were keep the ids they had."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.domain.charges import slug
from bookkeeper.domain.id_parts import MAX_ID_PART, fully_escaped_id_part, id_part, key_of_id_part, legacy_id_part

KAZOO_ID_SAFE = re.compile(r"[A-Za-z0-9_.~-]*")  # `~` only leads a hashed part (a key too long to escape)


def test_po_17_written_four_ways_gives_four_ids_where_the_slug_gave_one():
    keys = ["PO 17", "PO/17", "PO.17", "PO:17", "PO_17"]
    assert {slug(key) for key in keys} == {"PO_17"}
    assert [id_part(key) for key in keys] == ["PO.2017", "PO.2F17", "PO.2E17", "PO.3A17", "PO_17"]


@given(st.text(max_size=25))  # 25 four-byte characters escape to 300: none is hashed
def test_an_id_part_gives_back_its_key_exactly(key):
    assert key_of_id_part(id_part(key)) == key


@given(st.text(max_size=30), st.text(max_size=30))
def test_distinct_keys_never_share_an_id_part(one, other):
    assert (id_part(one) == id_part(other)) == (one == other)


@given(st.text(max_size=60))
def test_an_id_part_is_plain_ascii_that_couchdb_urls_and_kazoos_month_prefix_take_as_it_is(key):
    part = id_part(key)
    assert KAZOO_ID_SAFE.fullmatch(part)
    assert not f"202611-kazbill-wire_transfer-{part}".startswith("_")


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", max_size=60))
def test_keys_the_slug_kept_as_they_were_keep_their_ids_and_need_no_second_look(key):
    assert id_part(key) == slug(key) == key
    assert legacy_id_part(key) is None


def test_a_key_the_slug_changed_names_its_old_id_for_documents_written_before():
    assert legacy_id_part("PO 17") == "PO_17"
    assert legacy_id_part("ПО-17") == "ПО-17"  # the slug kept non-ASCII letters; id_part escapes them
    assert id_part("ПО-17") == ".D0.9F.D0.9E-17"


@pytest.mark.parametrize("part", ["PO.2", "PO.2f17", "PO.ZZ", "PO 17", "PO/17", ".FF"])
def test_text_that_no_key_encodes_to_is_not_read_as_one(part):
    with pytest.raises(ValueError):
        key_of_id_part(part)


@given(st.text(max_size=200))
def test_a_key_of_up_to_200_characters_of_any_kind_gives_an_id_the_store_takes(key):
    assert len(id_part(key)) <= MAX_ID_PART and len(fully_escaped_id_part(key)) <= MAX_ID_PART


def test_a_key_too_long_to_escape_is_named_by_its_hash_which_no_escaped_key_can_be():
    long_key = "💸" * 100
    assert id_part(long_key).startswith("~") and len(id_part(long_key)) == 65
    assert id_part(long_key) != id_part("💸" * 99) and "~" not in id_part("~" * 10)


def test_the_fully_escaped_part_escapes_the_underscore_that_a_slug_left_ambiguous():
    assert fully_escaped_id_part("PO_17") == "PO.5F17" and key_of_id_part("PO.5F17") == "PO_17"
    assert ".5F" not in id_part("PO_17") + slug("PO 17")
