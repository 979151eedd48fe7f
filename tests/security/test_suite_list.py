"""The security suite's list names only tests that exist, and the marker reaches them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.security.entrances import SECURITY_TESTS

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("path", sorted(SECURITY_TESTS))
def test_every_listed_test_exists(path):
    tree = ast.parse((ROOT / path).read_text())
    defined = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    missing = [name for name in SECURITY_TESTS[path] if name != "*" and name not in defined]
    assert not missing, f"{path} no longer defines {missing}: mend tests/security/entrances.py"


def test_this_module_is_itself_in_the_suite(request):
    assert request.node.get_closest_marker("security") is not None
