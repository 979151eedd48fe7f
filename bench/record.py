"""Figures for the benchmark table. Each benchmark prints its own figures; when it runs under
`python -m bench.all` (KAZBILL_BENCH_RECORD names a file) it also records them here, one JSON
line each, with the name of the reference figure measured in the same run that it compares to."""
from __future__ import annotations

import json
import os


def record(name: str, value: float, unit: str, *, reference: str | None = None, higher_is_better: bool = True) -> None:
    path = os.environ.get("KAZBILL_BENCH_RECORD")
    if not path:
        return
    line = {"name": name, "value": round(float(value), 3), "unit": unit, "reference": reference,
            "higher_is_better": higher_is_better}
    with open(path, "a", encoding="utf-8") as figures:
        figures.write(json.dumps(line) + "\n")
