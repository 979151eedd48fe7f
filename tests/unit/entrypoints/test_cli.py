"""The `kazbill` command on the embedded store (no services needed)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from entrypoints.cli import main


def run(args, env):
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def test_store_init_prepares_an_empty_embedded_store_and_a_second_run_changes_nothing(tmp_path):
    env = {"KAZBILL_STORE_PATH": str(tmp_path / "k.sqlite3"), "KAZBILL_STORE_URL": ""}
    first = run(["store", "init", "--json"], env)
    assert first.exit_code == 0, first.output
    report = json.loads(first.output)
    assert report["created_databases"] == [
        "accounts",
        "services",
        "kazbill_system",
        "kazbill_failures",
        "kazbill_notices",
        "kazbill_outbox",
        "kazbill_hooks",
        "kazbill_topups",
        "kazbill_numbers",
        "kazbill_document_queue",
        "kazbill_directory",
        "kazbill_webhook_deliveries",
    ]
    assert {d["state"] for d in report["design_docs"]} == {"installed"}
    assert report["server"]["adapter"] == "embedded"

    second = json.loads(run(["store", "init", "--json"], env).output)
    assert second["created_databases"] == []
    assert {d["state"] for d in second["design_docs"]} == {"unchanged"}

    check = run(["store", "check"], env)
    assert check.exit_code == 0 and "store is ready" in check.output


def test_store_check_on_an_uninitialised_store_says_what_is_missing_and_fails(tmp_path):
    env = {"KAZBILL_STORE_PATH": str(tmp_path / "k.sqlite3"), "KAZBILL_STORE_URL": ""}
    result = run(["store", "check"], env)
    assert result.exit_code == 1
    assert "system databases missing: accounts, services, kazbill_system, kazbill_failures" in result.output


def test_an_unreachable_couchdb_is_one_clear_line_not_a_traceback(tmp_path):
    result = CliRunner().invoke(main, ["store", "check"], env={"KAZBILL_STORE_URL": "http://admin:pw@127.0.0.1:9"})
    assert result.exit_code == 1
    assert "127.0.0.1:9" in result.output and "Traceback" not in result.output and "pw@" not in result.output


def test_a_bad_setting_is_named(tmp_path):
    result = CliRunner().invoke(main, ["config", "show"], env={"KAZBILL_SMTP_PORT": "smtp"})
    assert result.exit_code == 1 and "KAZBILL_SMTP_PORT" in result.output


def test_config_show_masks_secrets():
    result = run(["config", "show"], {"KAZBILL_SMTP_PASSWORD": "hunter2", "KAZBILL_STORE_URL": ""})
    assert "KAZBILL_SMTP_PASSWORD=****" in result.output and "hunter2" not in result.output


def test_ratedeck_import_shows_progress_refuses_bad_files_whole_and_prices_a_number(tmp_path):
    from bookkeeper.adapters.embedded import EmbeddedStore
    from testkit.fixtures.api_world import ApiWorld

    path = tmp_path / "k.sqlite3"
    store = EmbeddedStore(path)
    reseller = ApiWorld(store).build().ids["reseller"]
    store.close()
    env = {"KAZBILL_STORE_PATH": str(path), "KAZBILL_STORE_URL": ""}
    good, bad = tmp_path / "deck.csv", tmp_path / "bad.csv"
    good.write_text(
        "prefix,rate_cost,rate_increment,rate_minimum,rate_name\n7495,0.90,6,30,Moscow\n7,2.00,60,60,Russia\n"
    )
    bad.write_text("prefix,rate_cost\n7495,0.50\n7x,1\n")
    imported = run(["ratedeck", "import", str(good), "--reseller", reseller, "--deck", "retail"], env)
    assert imported.exit_code == 0 and "2 rates written" in imported.output
    refused = run(["ratedeck", "import", str(bad), "--reseller", reseller, "--deck", "retail"], env)
    assert refused.exit_code == 1 and "bad.csv:3: prefix:" in refused.output and "not changed" in refused.output
    priced = run(
        ["ratedeck", "rate", "74951234567", "--reseller", reseller, "--deck", "retail", "--seconds", "31"], env
    )
    assert priced.exit_code == 0 and "Moscow" in priced.output and "billed as 36 s = 0.54" in priced.output
    unrated = run(["ratedeck", "rate", "4420", "--reseller", reseller, "--deck", "retail"], env)
    assert unrated.exit_code == 2 and "unrated" in unrated.output
    not_reseller = run(["ratedeck", "import", str(good), "--reseller", "f" * 32, "--deck", "retail"], env)
    assert not_reseller.exit_code == 2 and "not a reseller" in not_reseller.output


def test_store_check_names_the_documents_a_view_left_out_and_fails(tmp_path):
    """A map that threw on a document (recorded by the embedded store as CouchDB would only log it)
    is a document billing cannot see: the check names it, with its view, and exits 1."""
    from bookkeeper.adapters.embedded import EmbeddedStore

    path = tmp_path / "k.sqlite3"
    env = {"KAZBILL_STORE_PATH": str(path), "KAZBILL_STORE_URL": ""}
    assert run(["store", "init"], env).exit_code == 0
    store, db = EmbeddedStore(path), "account/ab/cd/" + "e" * 28
    store.create_database(db)
    store.put(
        db,
        {
            "_id": "_design/mutating",
            "language": "javascript",
            "views": {
                "sorted_in_place": {"map": "function(doc) { if (doc.features) emit(doc._id, doc.features.sort()); }"}
            },
        },
    )
    store.put(db, {"_id": "number-1", "features": ["local", "cnam"]})
    store.query_view(db, "mutating", "sorted_in_place")
    store.close()
    result = run(["store", "check"], env)
    assert result.exit_code == 1, result.output
    assert "documents the views leave out" in result.output and ": 1" in result.output
    assert "'number-1'" in result.output and "_design/mutating/_view/sorted_in_place" in result.output
    report = json.loads(run(["store", "check", "--json"], env).output)
    assert report["view_errors"] == 1 and report["healthy"] is False
