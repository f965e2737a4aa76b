"""Run a per-case job serially, in a local process pool, or on a Ray cluster.

Results always come back in input order, so every runner yields the same
report for the same case set; only latencies differ.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from dxrx.bench.run import evaluate_dxrx, evaluate_external
from dxrx.errors import InputError

Job = Callable[[dict[str, Any]], dict[str, Any]]


def make_job(reports: Path | None) -> Job:
    if reports is None:
        return evaluate_dxrx
    return partial(evaluate_external, reports=reports)


def _progress(items: Iterator[dict[str, Any]], total: int, label: str) -> list[dict[str, Any]]:
    """Collect results, with a progress bar when a person is watching the terminal."""
    if not sys.stderr.isatty():
        return list(items)
    from rich.progress import Progress

    out = []
    with Progress(transient=True) as bar:
        task = bar.add_task(label, total=total)
        for item in items:
            out.append(item)
            bar.advance(task)
    return out


def run_local(records: list[dict[str, Any]], job: Job, workers: int = 1) -> list[dict[str, Any]]:
    if workers <= 1:
        return _progress((job(r) for r in records), len(records), "cases")
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return _progress(pool.map(job, records, chunksize=4), len(records), f"cases x{workers}")


def _call(job: Job, record: dict[str, Any]) -> dict[str, Any]:
    return job(record)


def run_ray(records: list[dict[str, Any]], job: Job, address: str) -> list[dict[str, Any]]:
    """Same job on Ray; ``address`` is a cluster address, or ``local`` for a private instance."""
    try:
        import ray
    except ImportError:
        raise InputError("--ray needs the 'ray' package: pip install 'dxrx[scale]'") from None
    started = not ray.is_initialized()
    if started:
        try:
            if address == "local":
                ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
            else:
                ray.init(address=address, log_to_driver=False, configure_logging=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise InputError(f"cannot connect to the Ray cluster at {address!r}: {exc}") from None
    try:
        remote = ray.remote(_call)
        refs = [remote.remote(job, r) for r in records]
        return [ray.get(ref) for ref in refs]
    finally:
        if started:
            ray.shutdown()
