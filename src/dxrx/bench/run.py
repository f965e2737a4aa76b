"""Evaluate one case: dxrx's own work-up, or an external work-up graded against the truth.

Each function takes plain data and returns plain data, so the same job runs
unchanged in this process, in a local process pool or on a Ray cluster, and
gives the same numbers on all of them (only the timings differ).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from dxrx.errors import InputError
from dxrx.grade import grade, load_workup
from dxrx.ingest import ingest_record
from dxrx.kb.loader import KnowledgeBase, load_kb
from dxrx.labels import rank_of
from dxrx.pipeline import analyze_case
from dxrx.plan.rubric import assess_plan

REPORT_SUFFIXES = (".md", ".txt", ".json")


def _case_fields(rec: dict[str, Any]) -> dict[str, Any]:
    """What every result row says about its case, whoever worked it up."""
    return {
        "id": rec.get("id"),
        "region": rec.get("region") or "unknown",
        "modalities": [m for m in rec.get("modalities") or [] if isinstance(m, str)],
        "final_diagnosis": rec["final_diagnosis"],
    }


def _unscored(rec: dict[str, Any], error: str) -> dict[str, Any]:
    return {
        **_case_fields(rec),
        "rank": None,
        "top3": [],
        "confidence": None,
        "invented": None,
        "plan": None,
        "ms": 0.0,
        "error": error,
    }


def evaluate_dxrx(rec: dict[str, Any], kb: KnowledgeBase | None = None) -> dict[str, Any]:
    kb = kb or load_kb()
    t0 = time.perf_counter()
    report = analyze_case(ingest_record(rec, kb), kb)
    elapsed = (time.perf_counter() - t0) * 1000
    truth = rec["final_diagnosis"]
    entries = [(d.name, d.aliases) for d in report.differential]
    rank = rank_of(truth, entries)
    graded = grade(report, rec, kb)
    return {
        **_case_fields(rec),
        "rank": rank,
        "top3": [d.name for d in report.differential[:3]],
        "confidence": report.differential[0].score,
        "invented": len(graded.invented_findings),
        "plan": assess_plan(kb, report.plan, report.case).model_dump(),
        "ms": round(elapsed, 2),
    }


def find_report(reports: Path, case_id: str) -> Path | None:
    for suffix in REPORT_SUFFIXES:
        p = reports / f"{case_id}{suffix}"
        if p.is_file():
            return p
    return None


def evaluate_external(
    rec: dict[str, Any], reports: Path, kb: KnowledgeBase | None = None
) -> dict[str, Any]:
    """Grade the external work-up saved for this case (``<id>.md|.txt|.json`` in ``reports``)."""
    kb = kb or load_kb()
    path = find_report(reports, str(rec.get("id")))
    if path is None:
        return _unscored(rec, "no report file for this case")
    t0 = time.perf_counter()
    try:
        result = grade(load_workup(str(path)), rec, kb)
    except InputError as exc:
        return _unscored(rec, str(exc))
    elapsed = (time.perf_counter() - t0) * 1000
    return {
        **_case_fields(rec),
        "rank": result.diagnosis.rank,
        "top3": result.diagnosis.differential[:3],
        "confidence": None,
        "invented": len(result.invented_findings),
        "grade_score": result.score,
        "plan": {
            "score": result.components["plan"],
            "unsafe": [u.text for u in result.plan.contraindicated],
        },
        "ms": round(elapsed, 2),
    }
