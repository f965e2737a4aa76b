"""The worked example end to end: the points the seed case must show."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from dxrx.kb import KnowledgeBase
from dxrx.model import Report
from dxrx.pipeline import analyze_record
from dxrx.report import render

ABDUCTORS = {"Gluteus medius", "Gluteus minimus", "Tensor fasciae latae"}


@pytest.fixture(scope="module")
def report(kb: KnowledgeBase, seed_record: dict[str, Any]) -> Report:
    return analyze_record(seed_record, kb)


def test_leading_diagnosis(report: Report) -> None:
    assert report.differential[0].id == "superior-gluteal-nerve-entrapment"
    assert report.leading.stage == "subacute"


def test_localisation_names_all_three_muscles(report: Report) -> None:
    loc = report.localisation
    assert loc.site_id == "superior-gluteal-nerve"
    assert ABDUCTORS <= set(loc.explains)
    assert not loc.unexplained


def test_stage_rests_on_stir_and_t1(report: Report) -> None:
    assert report.imaging.stage == "subacute"
    assert "T1" in report.imaging.stage_basis
    assert report.imaging.stage_refs


def test_differential_has_four_more_entries_with_evidence(report: Report) -> None:
    assert len(report.differential) >= 5
    for entry in report.differential[1:5]:
        assert entry.for_ or entry.against, entry.id
        assert entry.id != report.differential[0].id


def test_no_invented_nerve_signal(report: Report) -> None:
    md = render(report, "md")
    imaging_md = md.split("## Imaging read-out", 1)[1].split("## Localisation", 1)[0]
    assert not re.search(r"nerve[^.;\n]{0,40}(signal|hyperintens|enhanc)", imaging_md, re.I)
    assert not re.search(r"(signal|hyperintens|enhanc)[^.\n]{0,40}nerve", imaging_md, re.I)
    for f in report.imaging.findings:
        if f.concept != "not-visualised":  # "the nerve itself could not be seen" is stated
            assert not any("nerve" in s for s in f.structures), f.label


def test_every_evidence_item_is_sourced(report: Report) -> None:
    for entry in report.differential:
        for ev in [*entry.for_, *entry.against]:
            assert ev.span is not None or ev.refs, ev.statement
            if ev.span is not None:
                assert report.case.text[ev.span.start : ev.span.end] == ev.span.text


def test_plan_protects_then_loads_the_abductors(report: Report, kb: KnowledgeBase) -> None:
    stages = report.plan.rehabilitation.stages
    assert len(stages) >= 3
    for st in stages:
        fv = st.fitt_vp.model_dump()
        assert set(fv) == {"frequency", "intensity", "time", "type", "volume", "progression"}
        assert all(len(v) > 3 for v in fv.values())
        assert st.entry_criteria and st.progress_criteria
    early, late = stages[0], stages[-2]
    early_cats = {ex.category for ex in early.exercises}
    assert early_cats & {"isometric", "motor-control", "mobility"}
    assert any(set(ex.targets) & ABDUCTORS for ex in early.exercises)
    assert all(kb.exercises[ex.id].level <= 2 for ex in early.exercises)
    late_loaded = [
        ex
        for ex in late.exercises
        if set(ex.targets) & ABDUCTORS
        and ex.category in {"isotonic", "heavy-slow-resistance", "eccentric"}
    ]
    assert late_loaded, [ex.name for ex in late.exercises]
    assert max(kb.exercises[ex.id].level for ex in late.exercises) > max(
        kb.exercises[ex.id].level for ex in early.exercises
    )


def test_treatment_is_conservative_first_and_refers(report: Report) -> None:
    phases = [t.phase for t in report.plan.treatment]
    assert phases[0] in {"education", "conservative"}
    assert "surgery" in phases
    assert report.plan.referral


def test_json_contract(report: Report) -> None:
    doc = json.loads(render(report, "json"))
    for key in (
        "case",
        "imaging",
        "localisation",
        "differential",
        "red_flags",
        "plan",
        "disclaimer",
        "kb_version",
    ):
        assert key in doc
    assert doc["imaging"]["stage"] == "subacute"
    assert doc["localisation"]["site"] == "Superior gluteal nerve"
    top = doc["differential"][0]
    assert {"id", "name", "aliases", "score", "for", "against"} <= set(top)
    assert doc["case"]["age"] == 47 and doc["case"]["sex"] == "female"
    assert doc["case"]["side"] == "right"
    stage = doc["plan"]["rehabilitation"]["stages"][0]
    assert set(stage["fitt_vp"]) == {
        "frequency",
        "intensity",
        "time",
        "type",
        "volume",
        "progression",
    }
    assert doc["disclaimer"]


def test_markdown_is_readable(report: Report) -> None:
    md = render(report, "md")
    for heading in (
        "## Imaging read-out",
        "## Localisation",
        "## Differential diagnosis",
        "## Red flags",
        "## Treatment pathway",
        "## Rehabilitation",
        "## References",
    ):
        assert heading in md
    assert "Superior gluteal nerve entrapment" in md
    assert report.disclaimer in md
