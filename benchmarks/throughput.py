"""Bench throughput: cases per second at 1 and 2 local workers (and on local Ray if asked).

Run: ``python benchmarks/throughput.py [CASES.jsonl] [--repeat N] [--ray]``. The case set is
repeated N times so that process start-up does not dominate. Prints one JSON object; these
are measurements for the notes, not pass/fail tests.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def measure(cases: Path, repeat: int, use_ray: bool) -> dict[str, Any]:
    from dxrx.bench import run_bench

    lines = [ln for ln in cases.read_text(encoding="utf-8").splitlines() if ln.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "cases.jsonl"
        big.write_text("\n".join(lines * repeat) + "\n", encoding="utf-8")
        n = len(lines) * repeat
        out: dict[str, Any] = {"cases": n}
        runs: list[tuple[str, dict[str, Any]]] = [("workers_1", {}), ("workers_2", {"workers": 2})]
        if use_ray:
            runs.append(("ray_local", {"ray_address": "local"}))
        for name, kwargs in runs:
            t0 = time.perf_counter()
            run_bench(big, **kwargs)
            seconds = time.perf_counter() - t0
            out[name] = {"seconds": round(seconds, 2), "cases_per_s": round(n / seconds, 1)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("cases", nargs="?", type=Path, default=ROOT / "tests" / "data" / "dev.jsonl")
    ap.add_argument("--repeat", type=int, default=4)
    ap.add_argument("--ray", action="store_true", help="also time a local Ray instance")
    args = ap.parse_args()
    print(json.dumps(measure(args.cases, args.repeat, args.ray), indent=2))


if __name__ == "__main__":
    main()
