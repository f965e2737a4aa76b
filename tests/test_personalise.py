"""Patient factors change the plan, the rubric catches unsafe or incomplete plans,
and the handout follows the plan week by week."""

from __future__ import annotations

from dxrx.ingest import ingest_text
from dxrx.kb import KnowledgeBase
from dxrx.model import Plan
from dxrx.pipeline import analyze_case
from dxrx.plan import plan_for_condition
from dxrx.plan.rubric import assess_plan
from dxrx.report.handout import render_handout

GLUTEAL = (
    "A {age}-year-old woman {extra}has had lateral hip pain for 4 months, worse lying on the "
    "affected side and climbing stairs. Examination: tenderness over the greater trochanter and "
    "pain on resisted abduction.\n"
    "MRI: thickening and high T2 signal of the gluteus medius tendon at the greater trochanter "
    "with a small trochanteric bursal effusion."
)


def _plan(kb: KnowledgeBase, age: int, extra: str) -> tuple[Plan, object]:
    case = ingest_text(GLUTEAL.format(age=age, extra=extra), kb)
    report = analyze_case(case, kb)
    assert report.leading.id == "gluteal-tendinopathy"
    return report.plan, report.case


def test_anticoagulation_withholds_injection_and_cautions_nsaids(kb: KnowledgeBase) -> None:
    plan, case = _plan(kb, 58, "on warfarin for atrial fibrillation ")
    steps = {t.phase: t for t in plan.treatment}
    assert steps["injection"].status == "withheld"
    assert "anticoagulant" in (steps["injection"].caution or "")
    assert steps["medication"].status == "caution"
    assert [p.id for p in plan.personalisation] == ["anticoagulation"]
    assert "warfarin" in (plan.personalisation[0].span.text if plan.personalisation[0].span else "")
    assert assess_plan(kb, plan, case).unsafe == []  # type: ignore[arg-type]


def test_without_the_drug_nothing_is_withheld(kb: KnowledgeBase) -> None:
    plan, _ = _plan(kb, 58, "")
    assert all(t.status == "advised" for t in plan.treatment)
    assert plan.personalisation == []


def test_denied_anticoagulant_does_not_trigger(kb: KnowledgeBase) -> None:
    plan, _ = _plan(kb, 58, "who takes no anticoagulants ")
    assert all(t.status == "advised" for t in plan.treatment)


def test_rubric_flags_an_injection_advised_to_an_anticoagulated_patient(kb: KnowledgeBase) -> None:
    plan, case = _plan(kb, 58, "on warfarin ")
    unsafe = plan.model_copy(
        update={
            "treatment": [
                t.model_copy(update={"status": "advised"}) if t.phase == "injection" else t
                for t in plan.treatment
            ]
        }
    )
    result = assess_plan(kb, unsafe, case)  # type: ignore[arg-type]
    assert any("injection advised" in u for u in result.unsafe)
    assert result.score < 1.0


def test_pregnancy_replaces_lying_flat_exercises(kb: KnowledgeBase) -> None:
    plan, _ = _plan(kb, 31, "who is 24 weeks pregnant ")
    assert "pregnancy" in [p.id for p in plan.personalisation]
    for stage in plan.rehabilitation.stages:
        for rx in stage.exercises:
            pos = kb.exercises[rx.id].position.lower()
            assert "supine" not in pos and "prone" not in pos, rx.id
    changes = next(p for p in plan.personalisation if p.id == "pregnancy").changes
    assert changes, "the plan should say which exercises were replaced"


def test_older_adult_gets_no_plyometrics(kb: KnowledgeBase) -> None:
    plan, _ = _plan(kb, 78, "")
    assert "older-adult" in [p.id for p in plan.personalisation]
    for stage in plan.rehabilitation.stages:
        assert all(rx.category != "plyometric" for rx in stage.exercises)


def test_acute_muscle_tear_is_not_stretched(kb: KnowledgeBase) -> None:
    plan = plan_for_condition(kb, kb.conditions["hamstring-strain"], stage="acute")
    first = plan.rehabilitation.stages[0]
    assert first.current
    assert all(kb.exercises[rx.id].category != "stretch" for rx in first.exercises)


def test_rubric_catches_missing_fitt_element_and_unsafe_exercise(kb: KnowledgeBase) -> None:
    plan = plan_for_condition(kb, kb.conditions["gluteal-tendinopathy"], stage="acute")
    assert assess_plan(kb, plan).complete
    stage = plan.rehabilitation.stages[0]
    broken_fitt = stage.fitt_vp.model_copy(update={"volume": "as able"})
    clam = kb.exercises["clamshell"]
    rx = stage.exercises[0].model_copy(update={"id": clam.id, "name": clam.name})
    broken = plan.model_copy(
        update={
            "rehabilitation": plan.rehabilitation.model_copy(
                update={
                    "stages": [
                        stage.model_copy(
                            update={"fitt_vp": broken_fitt, "exercises": [*stage.exercises, rx]}
                        ),
                        *plan.rehabilitation.stages[1:],
                    ]
                }
            )
        }
    )
    result = assess_plan(kb, broken)
    assert not result.complete
    assert any("volume" in p for p in result.problems)
    assert any("hip-adduction-compression" in u for u in result.unsafe)


def test_every_condition_plan_passes_the_rubric(kb: KnowledgeBase) -> None:
    for cond in kb.conditions.values():
        for stage in ("acute", "subacute", "chronic", "post-operative"):
            result = assess_plan(kb, plan_for_condition(kb, cond, stage=stage))
            assert result.complete, (cond.id, result.problems)
            assert result.unsafe == [], (cond.id, result.unsafe)


def test_handout_is_plain_and_week_by_week(kb: KnowledgeBase) -> None:
    plan, _ = _plan(kb, 58, "on warfarin ")
    text = render_handout(plan, "Not medical advice.")
    assert text.startswith("# Your exercise and recovery plan")
    assert "## Week by week" in text
    assert "### Weeks 1-" in text  # the current stage has a typical duration
    current = next(st for st in plan.rehabilitation.stages if st.current)
    assert current.exercises[0].name in text
    assert "[msk-" not in text and "PMID" not in text  # no clinical citations for the patient
    assert "Because of your health, medicines and activities" in text
