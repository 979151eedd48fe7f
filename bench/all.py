"""Every benchmark in one run, and one table of their figures (Markdown and JSON) with the machine
they ran on. Each figure that has a reference measured in the same run (raw RabbitMQ consume,
raw store bulk writes, one fresh WeasyPrint render, a bare Falcon endpoint, a bare dict probe)
is shown with its ratio to it. Asserts nothing about time.

    .venv/bin/python -m bench.all [--scale quick|full] [--out bench-results] [--couch URL]   (or `kazbill bench`)

`quick` (the default) takes a few minutes with small loads; `full` runs each benchmark with its
own defaults (tens of minutes). Each benchmark's own output is kept next to the table, and each
row names the store engine and version it ran on. With `--couch URL` every store-backed figure is
measured on that CouchDB too (beside the embedded store's, in the same run), with the store
requests each billed event, call, account or API request cost; without it, the store and API
benchmarks compare with a pouchdb-server they start themselves.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from bookkeeper.config import mask_url_password

ROOT = Path(__file__).resolve().parents[1]
QUICK = {
    "store": ["--docs", "2000", "--batch", "500", "--queries", "100"],
    "period_close": ["--accounts", "500", "--reconciles", "50"],
    "api": ["--seconds", "3", "--rates", "100,300", "--connections", "8"],
    "slow_clients": ["--requests", "100", "--timeout", "3"],
    "events": ["--accounts", "50", "--events", "500", "--probes", "10"],
    "crawl_interleave": ["--accounts", "300"],
    # Calls on a backlog long enough for the bridge's batches to grow (300, as until 6 December,
    # measured mostly the service's start: 0.25 of raw consume where 20,000 measured 0.55-0.67).
    "rating": ["--prefixes", "100000", "--lookups", "100000", "--calls", "5000", "--accounts", "50", "--probes", "10"],
    "documents": ["--documents", "6", "--batch", "3", "--workers", "2", "--accounts", "100"],
    "accounts_list": ["--accounts", "10000", "--seconds", "3", "--rates", "100,300"],
    "call_bridge": ["--calls", "5000"],
}
FULL = {"rating": ["--calls", "20000"], "documents": ["--accounts", "1000"]}
# Run once more on the CouchDB given with --couch (the others take it and measure both stores themselves).
ON_EACH_STORE = ("period_close", "events", "crawl_interleave", "rating")
TAKES_COUCH = ("store", "api")


def machine() -> dict:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in _lines("/proc/cpuinfo") if line.startswith("model name")),
        platform.processor() or "unknown",
    )
    kilobytes = next((int(line.split()[1]) for line in _lines("/proc/meminfo") if line.startswith("MemTotal")), 0)
    memory = f"{kilobytes / 1024 / 1024:.0f} GB RAM" if kilobytes else "unknown RAM"
    versions = {}
    for package in ("weasyprint", "falcon", "gunicorn", "thespian", "aio-pika"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "absent"
    try:
        rabbit = subprocess.run(["rabbitmqctl", "version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except OSError:
        rabbit = "unknown"
    return {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory": memory,
        "python": platform.python_version(),
        "rabbitmq": rabbit or "unknown",
        **versions,
    }


def _lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


def run(name: str, args: list[str], out: Path, record: Path, label: str = "") -> dict:
    started = time.perf_counter()
    print(f"bench.{name} {' '.join(mask_url_password(arg) for arg in args)}", flush=True)
    with open(out / f"{label or name}.log", "wb") as log:
        finished = subprocess.run(
            [sys.executable, "-m", f"bench.{name}", *args],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "KAZBILL_BENCH_RECORD": str(record)},
        )
    seconds = time.perf_counter() - started
    print(
        f"  {'done' if finished.returncode == 0 else f'FAILED ({finished.returncode})'} in {seconds:.0f} s", flush=True
    )
    return {"benchmark": name, "args": args, "exit": finished.returncode, "seconds": round(seconds, 1)}


def table(figures: list[dict]) -> list[dict]:
    """Each figure with its reference's value and the ratio: value ÷ reference (for a rate, the
    share of the reference achieved; for a latency, how many times the reference's it is)."""
    by_name = {figure["name"]: figure for figure in figures}
    rows = []
    for figure in figures:
        reference = by_name.get(figure["reference"] or "")
        ratio = round(figure["value"] / reference["value"], 3) if reference and reference["value"] else None
        rows.append({**figure, "reference_value": reference["value"] if reference else None, "ratio": ratio})
    return rows


def markdown(rows: list[dict], about: dict, command: str) -> str:
    lines = [
        f"Benchmarks, {about['when']}: `{command}`",
        "",
        f"Machine: {about['machine']['cpus']} × {about['machine']['cpu']}, {about['machine']['memory']}, "
        f"{about['machine']['platform']}; Python {about['machine']['python']}, RabbitMQ "
        f"{about['machine']['rabbitmq']}, WeasyPrint {about['machine']['weasyprint']}, Falcon "
        f"{about['machine']['falcon']}, Thespian {about['machine']['thespian']}.",
        "",
        "| figure | store | value | unit | reference (same run) | ratio |",
        "|---|---|---:|---|---|---:|",
    ]
    for row in rows:
        reference = f"{row['reference']} = {row['reference_value']:,.1f}" if row["reference_value"] is not None else ""
        ratio = f"{row['ratio']:.3f}" if row["ratio"] is not None else ""
        lines.append(
            f"| {row['name']} | {row.get('store') or ''} | {row['value']:,.1f} | {row['unit']} | {reference} "
            f"| {ratio} |"
        )
    failed = [run["benchmark"] for run in about["runs"] if run["exit"]]
    if failed:
        lines += ["", f"Failed (see their logs): {', '.join(failed)}."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=("quick", "full"), default="quick")
    parser.add_argument("--out", default="bench-results", help="folder for the table and each benchmark's log")
    parser.add_argument("--only", help="comma-separated benchmarks (default: all)")
    parser.add_argument("--couch", help="a CouchDB URL: every store-backed figure is measured on it as well")
    args = parser.parse_args()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    chosen = args.only.split(",") if args.only else list(QUICK)
    unknown = sorted(set(chosen) - set(QUICK))
    if unknown:
        parser.error(f"--only: unknown benchmarks {', '.join(unknown)} (known: {', '.join(QUICK)})")
    with tempfile.NamedTemporaryFile(prefix="kazbill-bench-", suffix=".jsonl", delete=False) as handle:
        record = Path(handle.name)
    runs = []
    for name in chosen:
        options = QUICK[name] if args.scale == "quick" else FULL.get(name, [])
        couch = ["--couch", args.couch] if args.couch else []
        runs.append(run(name, options + (couch if name in TAKES_COUCH else []), out, record))
        if args.couch and name in ON_EACH_STORE:
            runs.append(run(name, options + couch, out, record, label=f"{name}-couchdb"))
    figures = [json.loads(line) for line in record.read_text().splitlines() if line.strip()]
    record.unlink()
    command = (
        "python -m bench.all"
        + (f" --scale {args.scale}" if args.scale != "quick" else "")
        + (f" --only {args.only}" if args.only else "")
        + (" --couch URL" if args.couch else "")
    )
    about = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "runs": runs,
        "scale": args.scale,
    }
    rows = table(figures)
    (out / "figures.json").write_text(json.dumps({**about, "command": command, "figures": rows}, indent=1))
    (out / "figures.md").write_text(markdown(rows, about, command))
    print(f"\n{len(rows)} figures from {len(runs)} benchmarks: {out / 'figures.md'} and {out / 'figures.json'}")
    sys.exit(1 if any(run["exit"] for run in runs) else 0)


if __name__ == "__main__":
    main()
