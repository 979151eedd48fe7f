"""docker/ cannot be run on these machines (no Docker daemon), so it is checked statically: the
compose file against the Compose specification's schema, the Dockerfile with hadolint, and both
against the code, so that a renamed command, option or setting breaks a test instead of a
deployment."""

from __future__ import annotations

import configparser
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
import yaml

from bookkeeper.config import SETTINGS
from entrypoints.cli import main

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = ROOT / "docker" / "compose.yaml"
DOCKERFILE = ROOT / "docker" / "Dockerfile"
BIN = Path(sys.executable).parent


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def kazbill_services() -> dict[str, dict]:
    return {name: spec for name, spec in compose()["services"].items() if spec.get("image") == "kazbill:latest"}


def test_the_compose_file_follows_the_compose_specification():
    done = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_dockerfile_passes_hadolint():
    done = subprocess.run(
        [str(BIN / "hadolint"), "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_image_is_multi_stage_non_root_checked_for_health_and_runs_kazbill():
    text = DOCKERFILE.read_text()
    assert len(re.findall(r"^FROM ", text, re.M)) >= 2
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and not user[-1].startswith(("root", "0")), "the image must not run as root"
    assert re.search(r"^HEALTHCHECK ", text, re.M)
    assert 'ENTRYPOINT ["kazbill"]' in text
    assert "-c constraints.txt" in text  # the versions the tests ran with


def test_the_image_copies_every_package_setup_cfg_installs():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    packages = {line.split(".")[0] for line in config["options.packages.find"]["include"].split()}
    copied = set(re.findall(r"^COPY (\w+) \./\1$", DOCKERFILE.read_text(), re.M))
    assert packages <= copied, f"not copied into the image: {sorted(packages - copied)}"


def parse_with_the_cli(args: list[str]) -> click.Command:
    """The command `kazbill <args>` would run; click's own error if it would refuse them."""
    context = main.make_context("kazbill", [], resilient_parsing=True)
    command: click.Command = main
    while isinstance(command, click.Group):
        name, *args = args
        found = command.get_command(context, name)
        if found is None:
            raise click.UsageError(f"no such command {name!r}")
        command = found
        context = command.make_context(name, list(args), parent=context)  # unknown options raise here
    return command


def test_the_check_itself_refuses_what_the_cli_refuses():
    with pytest.raises(click.UsageError):
        parse_with_the_cli(["serve", "--no-such-option"])
    with pytest.raises(click.UsageError):
        parse_with_the_cli(["store", "nonsense"])


@pytest.mark.parametrize("service", sorted(kazbill_services()))
def test_each_kazbill_command_in_compose_is_one_the_cli_accepts(service):
    assert parse_with_the_cli(list(kazbill_services()[service]["command"])) is not None


@pytest.mark.parametrize("service", sorted(kazbill_services()))
def test_each_kazbill_setting_in_compose_is_one_kazbill_reads(service):
    known = {setting.env for setting in SETTINGS}
    used = {name for name in kazbill_services()[service]["environment"] if name.startswith("KAZBILL_")}
    assert used and used <= known, f"unknown settings: {sorted(used - known)}"
    assert "KAZBILL_STORE_URL" in used  # in a container, the embedded default would lose its data


def test_compose_runs_the_processes_an_operator_needs_with_restart_policies():
    services = kazbill_services()
    commands = {name: spec["command"][0] for name, spec in services.items()}
    assert sorted(commands.values()) == ["api", "serve", "serve", "store"]  # serve-2: the nodes profile
    for name, spec in services.items():
        expected = "no" if commands[name] == "store" else "unless-stopped"
        assert spec["restart"] == expected, name
    for serve in (spec for spec in services.values() if spec["command"][0] == "serve"):
        assert set(serve["environment"]["KAZBILL_BRIDGES"].split(",")) == {"amqp", "couchdb"}
        assert "KAZBILL_NODE" in serve["environment"]
    assert services["serve-2"]["profiles"] == ["nodes"]
    assert services["serve-2"]["environment"]["KAZBILL_NODE"] == "kazbill@serve-2"
    everything = compose()["services"]
    assert {"couchdb", "rabbitmq", "mailpit"} <= set(everything)
    assert [name for name, spec in everything.items() if "cluster" in spec.get("profiles", [])] == [
        "couchdb-1",
        "couchdb-2",
        "couchdb-3",
        "couchdb-cluster-setup",
    ]
