"""The embedded store's revision digests: the body's stored text with its attachments spliced in
(locking.next_rev) digests exactly as the whole body encoded again did, so that revisions made
before and after are the same for the same write."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from bookkeeper.adapters.embedded.locking import compact_json, next_rev

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8))
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=12,
)
bodies = st.dictionaries(st.text(max_size=6).filter(lambda key: not key.startswith("_")), values, max_size=5)
attachments = st.one_of(
    st.none(),
    st.dictionaries(st.text(min_size=1, max_size=5), st.fixed_dictionaries({"stub": st.just(True)}), max_size=2),
)


def encoded_twice(previous, body, attached, deleted):
    generation = int(previous.split("-", 1)[0]) + 1 if previous else 1
    text = compact_json({**body, "_attachments": attached})
    digest = hashlib.md5(f"{previous or ''}|{int(deleted)}|{text}".encode()).hexdigest()
    return f"{generation}-{digest}"


@given(st.one_of(st.none(), st.just("3-abc")), bodies, attachments, st.booleans())
def test_the_digest_is_that_of_the_whole_body_encoded_again(previous, body, attached, deleted):
    assert next_rev(previous, compact_json(body), attached, deleted) == encoded_twice(previous, body, attached, deleted)


def test_a_known_revision_is_unchanged():
    assert next_rev(None, "{}", None, False) == "1-" + hashlib.md5(b'|0|{"_attachments":null}').hexdigest()
    assert (
        next_rev("1-x", '{"a":1}', None, True) == "2-" + hashlib.md5(b'1-x|1|{"a":1,"_attachments":null}').hexdigest()
    )
