"""Summary metrics over per-case results: accuracy by region and modality, calibration,
invented findings, plan rubric and latency."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

BINS = 10


def _share(rows: list[dict[str, Any]], k: int) -> float:
    if not rows:
        return 0.0
    return round(sum(1 for r in rows if r["rank"] is not None and r["rank"] <= k) / len(rows), 4)


def _accuracy(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "n": len(rows),
        "top1": _share(rows, 1),
        "top3": _share(rows, 3),
        "top5": _share(rows, 5),
    }


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


def calibration(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Brier score and reliability bins of the top entry's probability against top-1 hits."""
    scored = [r for r in rows if r.get("confidence") is not None]
    if not scored:
        return None
    pairs = [(float(r["confidence"]), 1.0 if r["rank"] == 1 else 0.0) for r in scored]
    brier = sum((p - y) ** 2 for p, y in pairs) / len(pairs)
    bins = []
    for b in range(BINS):
        lo, hi = b / BINS, (b + 1) / BINS
        inside = [(p, y) for p, y in pairs if lo <= p < hi or (b == BINS - 1 and p == 1.0)]
        if inside:
            bins.append(
                {
                    "lo": lo,
                    "hi": hi,
                    "n": len(inside),
                    "mean_confidence": round(sum(p for p, _ in inside) / len(inside), 4),
                    "accuracy": round(sum(y for _, y in inside) / len(inside), 4),
                }
            )
    ece = sum(b["n"] * abs(b["mean_confidence"] - b["accuracy"]) for b in bins) / len(pairs)
    return {"brier": round(brier, 4), "ece": round(ece, 4), "bins": bins}


def plan_summary(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    plans = [r["plan"] for r in rows if r.get("plan")]
    if not plans:
        return None
    scores = sorted(p["score"] for p in plans)
    n = len(plans)
    out: dict[str, Any] = {
        "n": n,
        "unsafe_items": sum(len(p["unsafe"]) for p in plans),
        "score_min": scores[0],
        "score_median": scores[n // 2],
        "score_mean": round(sum(scores) / n, 4),
    }
    if "completeness" in plans[0]:
        out["complete"] = round(sum(1 for p in plans if p["completeness"] == 1.0) / n, 4)
        out["mean_targeting"] = round(sum(p["targeting"] for p in plans) / n, 4)
        out["mean_progression"] = round(sum(p["progression"] for p in plans) / n, 4)
    return out


def summarise(rows: list[dict[str, Any]], source: str) -> dict[str, Any]:
    by_region: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_modality: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_region[r["region"]].append(r)
        for m in r["modalities"] or ["none"]:
            by_modality[m].append(r)
    graded = [r for r in rows if r.get("invented") is not None]
    times = [r["ms"] for r in rows if r["ms"]]
    return {
        "source": source,
        **_accuracy(rows),
        "by_region": {k: _accuracy(v) for k, v in sorted(by_region.items())},
        "by_modality": {k: _accuracy(v) for k, v in sorted(by_modality.items())},
        "calibration": calibration(rows),
        "invented_findings": {
            "per_case": round(sum(r["invented"] for r in graded) / len(graded), 4)
            if graded
            else None,
            "cases_with_any": round(sum(1 for r in graded if r["invented"]) / len(graded), 4)
            if graded
            else None,
        },
        "plan_quality": plan_summary(rows),
        "latency_ms": {
            "p50": round(percentile(times, 50), 2),
            "p95": round(percentile(times, 95), 2),
        },
        "errors": [{"id": r["id"], "error": r["error"]} for r in rows if r.get("error")],
        "misses": [
            {
                "id": r["id"],
                "final_diagnosis": r["final_diagnosis"],
                "rank": r["rank"],
                "top3": r["top3"],
            }
            for r in rows
            if r["rank"] is None or r["rank"] > 3
        ],
        "cases": rows,
    }
