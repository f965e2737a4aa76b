"""dxrx bench: metrics, formats, external reports, and identical results on every runner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import DEV, ROOT, SEED
from dxrx.bench import render_bench, run_bench
from test_cli import run


@pytest.fixture(scope="module")
def subset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bench") / "subset.jsonl"
    lines = DEV.read_text(encoding="utf-8").splitlines()[:8]
    lines.append(json.dumps(json.loads(SEED.read_text(encoding="utf-8"))))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _without_timing(result: dict[str, Any]) -> dict[str, Any]:
    doc = json.loads(json.dumps(result))
    doc.pop("latency_ms")
    for row in doc["cases"]:
        row.pop("ms")
    return doc


def test_metrics_cover_regions_modalities_calibration_and_plans(subset: Path) -> None:
    result = run_bench(subset)
    assert result["n"] == 9
    assert sum(g["n"] for g in result["by_region"].values()) == 9
    assert "MR" in result["by_modality"]
    cal = result["calibration"]
    assert 0.0 <= cal["brier"] <= 1.0 and sum(b["n"] for b in cal["bins"]) == 9
    assert result["invented_findings"]["per_case"] == 0.0  # dxrx states only what the case says
    assert result["plan_quality"]["complete"] == 1.0
    assert result["plan_quality"]["unsafe_items"] == 0
    seed = next(c for c in result["cases"] if c["id"] == "eurorad-16251")
    assert seed["rank"] == 1
    assert {m["id"] for m in result["misses"]} == {
        c["id"] for c in result["cases"] if c["rank"] is None or c["rank"] > 3
    }


def test_workers_and_ray_give_identical_results(subset: Path) -> None:
    serial = _without_timing(run_bench(subset))
    assert _without_timing(run_bench(subset, workers=2)) == serial
    assert _without_timing(run_bench(subset, ray_address="local")) == serial


def test_external_reports_are_graded(subset: Path, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    generated = ROOT / "examples" / "seed-generated-report.md"
    (reports / "eurorad-16251.md").write_text(generated.read_text(encoding="utf-8"))
    result = run_bench(subset, reports=reports)
    seed = next(c for c in result["cases"] if c["id"] == "eurorad-16251")
    assert seed["rank"] == 1 and seed["invented"] == 1
    assert len(result["errors"]) == 8  # the other cases have no report file
    assert result["invented_findings"]["per_case"] == 1.0


def test_html_embeds_plots(subset: Path) -> None:
    page = render_bench(run_bench(subset), "html")
    assert page.startswith("<!doctype html>")
    assert page.count('src="data:image/png;base64,') == 2
    assert "By region" in page and "http" not in page.split("<body>")[1].split("Misses")[0]


def test_cli_bench_markdown_and_plots(subset: Path, tmp_path: Path) -> None:
    res = run("bench", str(subset), "--plots", str(tmp_path))
    assert res.returncode == 0, res.stderr.decode()
    out = res.stdout.decode()
    assert "top-1:" in out and "## By region" in out and "calibration: Brier" in out
    for name in ("bench-reliability.png", "bench-by-region.png"):
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG")


def test_cli_bench_rejects_bad_options(subset: Path, tmp_path: Path) -> None:
    for args in (["--workers", "0"], ["--reports", str(tmp_path / "missing")]):
        res = run("bench", str(subset), *args)
        assert res.returncode == 2, args
        assert "Traceback" not in res.stderr.decode()
