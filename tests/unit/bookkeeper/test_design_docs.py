from __future__ import annotations

import json

import pytest

from bookkeeper.design_docs import DesignDocError, load_design_docs, parse_design_doc


def test_every_shipped_design_document_is_valid_and_names_its_databases():
    docs = load_design_docs()
    assert {doc.design_id for doc in docs} >= {
        "_design/kazbill_accounts",
        "_design/kazbill_ledgers",
        "_design/kazbill_quantities",
        "_design/kazbill_failures",
    }
    for doc in docs:
        assert doc.body["kazbill"]["digest"] == doc.digest


def test_a_design_document_belongs_in_its_class_of_database():
    by_id = {doc.design_id: doc for doc in load_design_docs()}
    account = "account/4f/d3/b7c0a2e1d4f5b6c7d8e9f0a1b2c3"
    assert by_id["_design/kazbill_quantities"].belongs_in(account)
    assert by_id["_design/kazbill_quantities"].belongs_in("account%2F4f%2Fd3%2Fb7c0a2e1d4f5b6c7d8e9f0a1b2c3")
    assert not by_id["_design/kazbill_quantities"].belongs_in(account + "-202611")
    assert by_id["_design/kazbill_ledgers"].belongs_in(account + "-202611")
    assert by_id["_design/kazbill_failures"].belongs_in("kazbill_failures")
    assert not by_id["_design/kazbill_failures"].belongs_in("kazbill_system")
    assert by_id["_design/kazbill_accounts"].belongs_in("accounts")


def test_the_digest_changes_with_the_content():
    base = {
        "_id": "_design/kazbill_t",
        "kazbill": {"db_class": "account"},
        "views": {"v": {"map": "function(doc) { emit(doc._id, 1); }"}},
    }
    first = parse_design_doc("t.json", json.dumps(base))
    base["views"]["v"]["reduce"] = "_count"
    assert parse_design_doc("t.json", json.dumps(base)).digest != first.digest


@pytest.mark.parametrize(
    "body, problem",
    [
        ("{not json", "not valid JSON"),
        (
            '{"_id": "_design/accounts", "kazbill": {"db_class": "accounts"}, "views": {"v": {"map": "f"}}}',
            "_design/kazbill_",
        ),
        ('{"_id": "_design/kazbill_x", "kazbill": {"db_class": "galaxy"}, "views": {"v": {"map": "f"}}}', "db_class"),
        (
            '{"_id": "_design/kazbill_x", "kazbill": {"db_class": "system", "database": "nope"}, '
            '"views": {"v": {"map": "f"}}}',
            "kazbill.database",
        ),
        ('{"_id": "_design/kazbill_x", "kazbill": {"db_class": "account"}, "views": {}}', "views"),
        ('{"_id": "_design/kazbill_x", "kazbill": {"db_class": "account"}, "views": {"v": {}}}', "map function"),
        (
            '{"_id": "_design/kazbill_x", "kazbill": {"db_class": "account"}, '
            '"views": {"v": {"map": "f", "reduce": "function(k, v) { return 1; }"}}}',
            "reduce",
        ),
        (
            '{"_id": "_design/kazbill_x", "language": "erlang", "kazbill": {"db_class": "account"}, '
            '"views": {"v": {"map": "f"}}}',
            "javascript",
        ),
        (
            '{"_id": "_design/kazbill_x", "kazbill": {"db_class": "account"}, "options": {"autoupdate": false}, '
            '"views": {"v": {"map": "f"}}}',
            "autoupdate belongs at the top level",
        ),
        (
            '{"_id": "_design/kazbill_x", "kazbill": {"db_class": "account"}, "autoupdate": "no", '
            '"views": {"v": {"map": "f"}}}',
            "autoupdate, when given, must be false",
        ),
    ],
)
def test_a_broken_design_document_is_refused_with_the_file_named(body, problem):
    with pytest.raises(DesignDocError) as refused:
        parse_design_doc("broken.json", body)
    assert "broken.json" in str(refused.value) and problem in str(refused.value)


def test_the_indexes_no_pass_queries_are_not_built_in_the_background_after_every_write():
    """`autoupdate: false` at the design document's top level, where CouchDB's background indexer
    reads it: under `options` it was ignored, and on CouchDB every month's conflicts and documents
    indexes were rebuilt after each of its writes (about as many index updates as the ledger's)."""
    lazy = {doc.design_id for doc in load_design_docs() if doc.body.get("autoupdate") is False}
    assert lazy == {
        "_design/kazbill_conflicts",
        "_design/kazbill_documents",
        "_design/kazbill_plans",
        "_design/kazbill_users",
    }
    assert not [doc.design_id for doc in load_design_docs() if "autoupdate" in doc.body.get("options", {})]
