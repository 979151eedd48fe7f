"""`kazbill failures list`: the newest records first, only as many as asked for, read from the
view by creation (the database may hold thousands); a database made before its views were
installed is still listed."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bookkeeper.adapters.embedded import EmbeddedStore
from bookkeeper.design_docs import load_design_docs
from bookkeeper.services.setup import store_setup
from bookkeeper.services.setup.failures import FAILURES_DB, record_failure
from entrypoints.cli import main
from entrypoints.cli.failures import newest_failures

pytestmark = pytest.mark.integration


def record(store, n: int, *, created: int) -> None:
    record_failure(
        store,
        source="amqp",
        reason_code="malformed_json",
        reason=f"not JSON ({n})",
        payload=f"{{oops {n}",
        account_id=None,
        now_gregorian=created,
    )


def test_the_newest_come_first_and_only_as_many_as_asked(store):
    store_setup.initialise(store, load_design_docs())
    for n, created in enumerate([63_900_000_300, 63_900_000_100, 63_900_000_500, 63_900_000_200]):
        record(store, n, created=created)
    newest = newest_failures(store, 3)
    assert [doc["reason"] for doc in newest] == ["not JSON (2)", "not JSON (0)", "not JSON (3)"]
    assert all(doc["pvt_type"] == "failure" for doc in newest)


def test_a_failures_database_without_its_views_is_listed_all_the_same(tmp_path):
    path = tmp_path / "k.sqlite3"
    store = EmbeddedStore(path)
    for n in range(3):  # recorded before `kazbill store init`: no design document there
        record(store, n, created=63_900_000_000 + n)
    assert [doc["reason"] for doc in newest_failures(store, 2)] == ["not JSON (2)", "not JSON (1)"]
    store.close()
    listed = CliRunner().invoke(
        main, ["failures", "list", "--limit", "2"], env={"KAZBILL_STORE_PATH": str(path), "KAZBILL_STORE_URL": ""}
    )
    assert listed.exit_code == 0, listed.output
    lines = [line for line in listed.output.splitlines() if line.startswith(FAILURES_DB) or "amqp/" in line]
    assert len(lines) == 2 and "for a person" in lines[0]
    assert "not JSON (2)" in listed.output and "not JSON (0)" not in listed.output
