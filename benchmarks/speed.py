"""Per-case latency, CLI cold start and peak memory.

Run: ``python benchmarks/speed.py [CASES.jsonl] [--rounds N]``. Prints one JSON
object. These are measurements for the notes, not pass/fail tests: timings on
shared machines vary.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


def per_case(cases_path: Path, rounds: int) -> dict[str, Any]:
    from dxrx.bench import read_cases
    from dxrx.ingest import ingest_record
    from dxrx.kb import load_kb
    from dxrx.pipeline import analyze_case
    from dxrx.report import render

    t0 = time.perf_counter()
    kb = load_kb()
    load_ms = (time.perf_counter() - t0) * 1000
    records = read_cases(cases_path)
    analyze_case(ingest_record(records[0], kb), kb)  # compile the lexicon once
    times: list[float] = []
    for _ in range(rounds):
        for rec in records:
            t = time.perf_counter()
            report = analyze_case(ingest_record(rec, kb), kb)
            render(report, "json")
            times.append((time.perf_counter() - t) * 1000)
    tracemalloc.start()
    for rec in records:
        analyze_case(ingest_record(rec, kb), kb)
    _, peak_traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "cases": len(records),
        "rounds": rounds,
        "kb_load_ms": round(load_ms, 1),
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(_percentile(times, 95), 2),
        "max_ms": round(max(times), 2),
        "peak_python_alloc_per_case_mb": round(peak_traced / 1e6, 2),
        "process_max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def cold_start(runs: int) -> dict[str, Any]:
    seed = ROOT / "examples" / "seed-case.json"
    walls: list[float] = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "dxrx", "analyze", str(seed), "--format", "json"],
            check=True,
            capture_output=True,
        )
        walls.append((time.perf_counter() - t) * 1000)
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "runs": runs,
        "cold_start_median_ms": round(statistics.median(walls), 1),
        "cold_start_max_ms": round(max(walls), 1),
        "cli_peak_rss_mb": round(rss, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("cases", nargs="?", default=str(ROOT / "tests" / "data" / "dev.jsonl"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cold-runs", type=int, default=5)
    args = parser.parse_args()
    result = {**per_case(Path(args.cases), args.rounds), **cold_start(args.cold_runs)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
