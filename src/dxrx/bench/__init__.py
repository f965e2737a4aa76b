"""Run dxrx over a case set (JSON lines) and measure top-k accuracy against ground truth."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from dxrx.errors import InputError
from dxrx.ingest import ingest_record
from dxrx.ingest.source import parse_json_case
from dxrx.kb.loader import KnowledgeBase, load_kb
from dxrx.labels import rank_of
from dxrx.pipeline import analyze_case
from dxrx.plan.rubric import assess_plan


def read_cases(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot be read ({exc})") from None
    cases = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        case = parse_json_case(line, f"{path} line {n}")
        if not isinstance(case.get("final_diagnosis"), str):
            raise InputError(f"{path} line {n}: case has no 'final_diagnosis'")
        cases.append(case)
    if not cases:
        raise InputError(f"{path} holds no cases")
    return cases


def run_bench(path: Path, kb: KnowledgeBase | None = None) -> dict[str, Any]:
    kb = kb or load_kb()
    results = []
    for rec in read_cases(path):
        t0 = time.perf_counter()
        report = analyze_case(ingest_record(rec, kb), kb)
        elapsed = (time.perf_counter() - t0) * 1000
        quality = assess_plan(kb, report.plan, report.case)
        entries = [(d.name, d.aliases) for d in report.differential]
        rank = rank_of(rec["final_diagnosis"], entries)
        results.append(
            {
                "id": rec.get("id"),
                "region": rec.get("region"),
                "final_diagnosis": rec["final_diagnosis"],
                "rank": rank,
                "top3": [d.name for d in report.differential[:3]],
                "ms": round(elapsed, 2),
                "plan": quality.model_dump(),
            }
        )
    n = len(results)

    def share(k: int) -> float:
        return round(sum(1 for r in results if r["rank"] is not None and r["rank"] <= k) / n, 4)

    return {
        "n": n,
        "top1": share(1),
        "top3": share(3),
        "top5": share(5),
        "plan_quality": _plan_summary([r["plan"] for r in results]),
        "cases": results,
    }


def _plan_summary(plans: list[dict[str, Any]]) -> dict[str, Any]:
    """Distribution of the plan rubric over the case set."""
    scores = sorted(p["score"] for p in plans)
    n = len(plans)
    return {
        "complete": round(sum(1 for p in plans if p["completeness"] == 1.0) / n, 4),
        "unsafe_items": sum(len(p["unsafe"]) for p in plans),
        "mean_targeting": round(sum(p["targeting"] for p in plans) / n, 4),
        "mean_progression": round(sum(p["progression"] for p in plans) / n, 4),
        "score_min": scores[0],
        "score_median": scores[n // 2],
        "score_mean": round(sum(scores) / n, 4),
    }


def render_bench(result: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(result, indent=2) + "\n"
    lines = [
        f"cases: {result['n']}",
        f"top-1: {result['top1']:.1%}",
        f"top-3: {result['top3']:.1%}",
        f"top-5: {result['top5']:.1%}",
        "",
        "plan rubric: complete {complete:.0%}, unsafe items {unsafe_items}, targeting "
        "{mean_targeting:.0%}, progression {mean_progression:.0%}, score min {score_min:.2f} "
        "median {score_median:.2f} mean {score_mean:.2f}".format(**result["plan_quality"]),
        "",
        "misses (not in top 3):",
    ]
    for r in result["cases"]:
        if r["rank"] is None or r["rank"] > 3:
            got = "; ".join(r["top3"])
            lines.append(f"  {r['id']}: {r['final_diagnosis']!r} (rank {r['rank']}) — dxrx: {got}")
    return "\n".join(lines) + "\n"
