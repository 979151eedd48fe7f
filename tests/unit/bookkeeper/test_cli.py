"""The `kazbill` command on the embedded store (no services needed)."""
from __future__ import annotations

import json

from click.testing import CliRunner

from bookkeeper.cli import main


def run(args, env):
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def test_store_init_prepares_an_empty_embedded_store_and_a_second_run_changes_nothing(tmp_path):
    env = {"KAZBILL_STORE_PATH": str(tmp_path / "k.sqlite3"), "KAZBILL_STORE_URL": ""}
    first = run(["store", "init", "--json"], env)
    assert first.exit_code == 0, first.output
    report = json.loads(first.output)
    assert report["created_databases"] == ["accounts", "services", "kazbill_system", "kazbill_failures", "kazbill_notices",
                                           "kazbill_outbox"]
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
