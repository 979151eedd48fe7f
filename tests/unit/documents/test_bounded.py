"""Work in a bounded child: its answer comes back whole (however large), and a child that runs
past its time, swells past its memory, or dies is a refusal with the reason, never a hang."""

from __future__ import annotations

import os

import pytest

from documents.bounded import RenderBounds, run_bounded
from documents.html import RenderRefused

BOUNDS = RenderBounds(seconds=2.0, memory_mib=128)


def test_a_large_answer_comes_back_whole():
    assert run_bounded(lambda: b"%PDF-" + b"x" * 5_000_000, BOUNDS, "rendering") == b"%PDF-" + b"x" * 5_000_000


def endless() -> bytes:
    while True:
        pass


def swelling() -> bytes:
    return b"x" * (1024 * 1024 * 1024)


def dying() -> bytes:
    os._exit(3)


@pytest.mark.parametrize(
    "work, reason",
    [
        (endless, "rendering took longer than 2 s"),
        (swelling, "needed more than 128 MiB"),
        (dying, "rendering stopped (exit status 3)"),
    ],
    ids=["endless", "swelling", "dying"],
)
def test_a_child_past_its_bounds_is_a_refusal_with_the_reason(work, reason):
    with pytest.raises(RenderRefused) as refused:
        run_bounded(work, BOUNDS, "rendering")
    assert refused.value.field == "template" and reason in refused.value.reason
