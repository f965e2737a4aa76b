"""bench: run dxrx (or grade external work-ups) over a case set and measure it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dxrx.bench.cases import read_cases
from dxrx.bench.metrics import summarise
from dxrx.bench.render import render_bench
from dxrx.bench.runners import make_job, run_local, run_ray
from dxrx.errors import InputError

__all__ = ["read_cases", "render_bench", "run_bench"]


def run_bench(
    path: Path,
    *,
    reports: Path | None = None,
    workers: int = 1,
    ray_address: str | None = None,
) -> dict[str, Any]:
    """Per-case results and summary metrics; identical whichever runner does the work."""
    if reports is not None and not reports.is_dir():
        raise InputError(f"{reports} is not a folder of reports")
    if workers < 1:
        raise InputError("--workers must be at least 1")
    records = read_cases(path)
    job = make_job(reports)
    rows = run_ray(records, job, ray_address) if ray_address else run_local(records, job, workers)
    return summarise(rows, source=f"reports in {reports}" if reports else "dxrx")
