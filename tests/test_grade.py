"""dxrx grade on the seed's generated answer, on dxrx's own report and on broken work-ups."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dxrx.grade import GradeResult, grade
from dxrx.ingest import ingest_record
from dxrx.kb import KnowledgeBase
from dxrx.pipeline import analyze_case

ROOT = Path(__file__).resolve().parents[1]
GENERATED = (ROOT / "examples" / "seed-generated-report.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def seed_grade(kb: KnowledgeBase, seed_record: dict[str, Any]) -> GradeResult:
    return grade(GENERATED, seed_record, kb)


def test_seed_answer_diagnosis_is_correct(seed_grade: GradeResult) -> None:
    assert seed_grade.diagnosis.correct
    assert seed_grade.diagnosis.rank == 1
    assert "Superior Gluteal Nerve Entrapment" in seed_grade.diagnosis.named


def test_seed_answer_invents_the_nerve_signal(seed_grade: GradeResult) -> None:
    texts = [i.text for i in seed_grade.invented_findings]
    assert len(texts) == 1
    assert "mildly enhanced signal" in texts[0] and "Superior Gluteal Nerve" in texts[0]


def test_seed_answer_omits_tfl_t1_and_differential(seed_grade: GradeResult) -> None:
    found = " | ".join(o.finding for o in seed_grade.omissions)
    assert "Tensor fasciae latae" in found
    assert "on T1" in found and "fatty change" in found
    assert any(o.finding == "differential diagnosis" for o in seed_grade.omissions)
    dating = next(o for o in seed_grade.omissions if "fatty change" in o.finding)
    assert "dates the lesion" in dating.why


def test_seed_answer_plan_credits_fitt_structure(seed_grade: GradeResult) -> None:
    plan = seed_grade.plan
    assert plan.fitt_complete_stages == 1
    assert len(plan.stages) == 2
    assert plan.stages[0].missing == []
    assert plan.trains_affected_muscles is True
    assert plan.contraindicated == []
    assert plan.disclaimer and plan.red_flag_advice


def test_dxrx_own_report_invents_nothing(kb: KnowledgeBase, seed_record: dict[str, Any]) -> None:
    report = analyze_case(ingest_record(seed_record, kb), kb)
    result = grade(report, seed_record, kb)
    assert result.diagnosis.correct
    assert result.invented_findings == []
    assert result.plan.contraindicated == []
    assert result.plan.fitt_complete_stages == len(result.plan.stages)
    assert result.score > grade(GENERATED, seed_record, kb).score


def test_wrong_diagnosis_is_marked_wrong(kb: KnowledgeBase, seed_record: dict[str, Any]) -> None:
    broken = GENERATED.replace(
        "Superior Gluteal Nerve Entrapment (Compression) Leading to Neuropathic Changes.",
        "Gluteal tendinopathy (greater trochanteric pain syndrome).",
    )
    result = grade(broken, seed_record, kb)
    assert not result.diagnosis.correct
    assert result.diagnosis.rank is None
    assert result.components["diagnosis"] == 0.0


def test_invented_mri_finding_is_flagged(kb: KnowledgeBase, seed_record: dict[str, Any]) -> None:
    broken = GENERATED.replace(
        "No significant mass",
        "A full-thickness tear of the gluteus medius tendon is seen. No significant mass",
    )
    texts = [i.text for i in grade(broken, seed_record, kb).invented_findings]
    assert any("full-thickness tear of the gluteus medius tendon" in t for t in texts)


def test_missing_fitt_element_is_reported(kb: KnowledgeBase, seed_record: dict[str, Any]) -> None:
    lines = [ln for ln in GENERATED.splitlines() if not ln.startswith("- Frequency (F)")]
    assert len(lines) == len(GENERATED.splitlines()) - 1
    result = grade("\n".join(lines), seed_record, kb)
    assert result.plan.fitt_complete_stages == 0
    assert result.plan.stages[0].missing == ["frequency"]


def test_contraindicated_advice_for_anticoagulated_patient(
    kb: KnowledgeBase, seed_record: dict[str, Any]
) -> None:
    record = dict(seed_record)
    record["history"] = seed_record["history"] + " She takes warfarin for atrial fibrillation."
    result = grade(GENERATED, record, kb)
    unsafe = " | ".join(u.why for u in result.plan.contraindicated)
    assert "nsaids" in unsafe.lower() and "injection" in unsafe.lower()
    assert result.components["plan"] < grade(GENERATED, seed_record, kb).components["plan"]


def test_warning_against_running_is_not_contraindicated(
    kb: KnowledgeBase, seed_record: dict[str, Any]
) -> None:
    # the seed answer says to *avoid* running and jumping: that is advice against, not for
    assert "avoid high-impact activities" in GENERATED
    assert grade(GENERATED, seed_record, kb).plan.contraindicated == []


def test_grade_json_keys_are_stable(seed_grade: GradeResult) -> None:
    doc = json.loads(seed_grade.model_dump_json())
    assert {"correct", "rank", "named"} <= set(doc["diagnosis"])
    assert {"text", "why"} <= set(doc["invented_findings"][0])
    assert {"finding", "why"} <= set(doc["omissions"][0])
    assert isinstance(doc["plan"], dict) and isinstance(doc["score"], float)
