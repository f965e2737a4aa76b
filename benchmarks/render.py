"""Time to render a work-up in each output format, and the PDF's size and pages.

Run: ``python benchmarks/render.py [CASES.jsonl] [--rounds N]``. Prints one JSON object:
median milliseconds per case for Markdown, JSON, HTML (with the anatomy figure) and FHIR over
the case set, and for PDF (WeasyPrint) over the first few cases. Measurements for the notes,
not pass/fail tests.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _median_ms(fn: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("cases", nargs="?", default=str(ROOT / "tests" / "data" / "dev.jsonl"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--pdf-cases", type=int, default=3)
    args = ap.parse_args()

    from pypdf import PdfReader

    from dxrx.bench import read_cases
    from dxrx.ingest import ingest_record
    from dxrx.kb import load_kb
    from dxrx.pipeline import analyze_case
    from dxrx.report import render, render_pdf_report

    kb = load_kb()
    reports = [analyze_case(ingest_record(r, kb), kb) for r in read_cases(Path(args.cases))]
    out: dict[str, Any] = {"cases": len(reports), "rounds": args.rounds}
    for fmt in ("md", "json", "html", "fhir"):
        per = [_median_ms(partial(render, r, fmt, kb), args.rounds) for r in reports]
        out[f"{fmt}_median_ms"] = round(statistics.median(per), 2)
        out[f"{fmt}_max_ms"] = round(max(per), 2)
    pdf_ms, pages, sizes = [], [], []
    for r in reports[: args.pdf_cases]:
        t0 = time.perf_counter()
        pdf = render_pdf_report(r, kb)
        pdf_ms.append((time.perf_counter() - t0) * 1000)
        pages.append(len(PdfReader(io.BytesIO(pdf)).pages))
        sizes.append(len(pdf) / 1024)
    out["pdf_median_ms"] = round(statistics.median(pdf_ms), 1)
    out["pdf_pages"] = pages
    out["pdf_median_kib"] = round(statistics.median(sizes), 1)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
