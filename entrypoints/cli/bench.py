"""`kazbill bench`: every benchmark in bench/ and one table of their figures (a source checkout
only: the benchmarks are not installed with the package)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

from entrypoints.cli import main

CHECKOUT = Path(__file__).resolve().parents[2]


@main.command("bench", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("options", nargs=-1, type=click.UNPROCESSED)
def bench(options: tuple[str, ...]) -> None:
    """Run every benchmark and write the table (options go to `python -m bench.all`, e.g. --scale full)."""
    if not (CHECKOUT / "bench" / "all.py").is_file():
        raise click.ClickException(f"no bench/ next to {CHECKOUT / 'entrypoints'}: run it from a source checkout")
    sys.exit(subprocess.run([sys.executable, "-m", "bench.all", *options], cwd=CHECKOUT).returncode)
