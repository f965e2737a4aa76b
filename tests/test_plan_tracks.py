"""Where the plan starts and where it ends: the post-operative track when the case says the
patient was operated on, and the last stage aimed at the sport the patient wants back."""

from __future__ import annotations

import pytest

from dxrx.ingest import ingest_text
from dxrx.kb import KnowledgeBase
from dxrx.model import Report
from dxrx.pipeline import analyze_text
from dxrx.plan.rubric import assess_plan

ACL = (
    "History: A 27-year-old {who} {when} after a twisting knee injury with a pop and immediate "
    "swelling.\n"
    "Imaging: MRI showed a complete tear of the anterior cruciate ligament with bone bruising "
    "of the lateral femoral condyle."
)


def _report(kb: KnowledgeBase, who: str, when: str) -> Report:
    report = analyze_text(ACL.format(who=who, when=when), kb)
    assert report.leading.id == "acl-tear"
    return report


@pytest.mark.parametrize(
    "phrase",
    [
        "underwent anterior cruciate ligament reconstruction 2 weeks ago",
        "is 10 days post-operative",
        "was seen three weeks after arthroscopic ACL reconstruction",
        "is status post ACL reconstruction",
    ],
)
def test_recent_operation_is_read(kb: KnowledgeBase, phrase: str) -> None:
    case = ingest_text(f"History: A 30-year-old man {phrase}.", kb)
    assert any(f.concept == "post-operative" and not f.negated for f in case.findings)


@pytest.mark.parametrize(
    "phrase",
    [
        "had an ACL reconstruction 12 years ago and now has new swelling",
        "had knee surgery in childhood",
        "has never had an operation",
    ],
)
def test_old_or_denied_operation_is_not_post_operative(kb: KnowledgeBase, phrase: str) -> None:
    case = ingest_text(f"History: A 30-year-old man {phrase}.", kb)
    assert not any(f.concept == "post-operative" and not f.negated for f in case.findings)


def test_post_operative_case_starts_on_the_post_operative_track(kb: KnowledgeBase) -> None:
    report = _report(kb, "man", "underwent ACL reconstruction 2 weeks ago")
    rehab = report.plan.rehabilitation
    post = [st for st in rehab.stages if st.post_operative]
    assert post and rehab.stages[0].post_operative and rehab.stages[0].current
    assert sum(st.current for st in rehab.stages) == 1
    # after the post-operative stages the main protocol resumes, without its
    # non-operative protection stage
    main = kb.protocols[kb.conditions["acl-tear"].rehab_protocol]
    resumed = [st.id for st in rehab.stages if not st.post_operative]
    assert resumed == [st.id for st in main.stages][-len(resumed) :]
    assert main.stages[0].id not in resumed
    assert rehab.start_basis.startswith("post-operative")
    assert rehab.start_span is not None and "reconstruction" in rehab.start_span.text
    quality = assess_plan(kb, report.plan, report.case)
    assert quality.unsafe == [] and quality.problems == []


def test_non_operated_case_keeps_the_assessed_stage(kb: KnowledgeBase) -> None:
    report = _report(kb, "man", "has had knee pain for 2 weeks")
    rehab = report.plan.rehabilitation
    assert not any(st.post_operative for st in rehab.stages)
    assert rehab.start_basis.startswith("acute")


def test_footballer_gets_cutting_drills_and_return_criteria(kb: KnowledgeBase) -> None:
    report = _report(kb, "footballer", "has had knee pain for 2 weeks")
    pers = {p.id: p for p in report.plan.personalisation}
    assert "cutting-sport" in pers and "sport" not in pers  # the specific profile only
    assert "footballer" in (pers["cutting-sport"].span.text if pers["cutting-sport"].span else "")
    last = report.plan.rehabilitation.stages[-1]
    profile = kb.activities["cutting-sport"]
    added = [rx.id for rx in last.exercises if rx.why.startswith("return to")]
    assert added and set(added) <= set(profile.drills)
    assert any(c.startswith(f"For {profile.name}:") for c in last.progress_criteria)
    # the earlier stages are untouched
    assert not any(
        rx.why.startswith("return to")
        for st in report.plan.rehabilitation.stages[:-1]
        for rx in st.exercises
    )


def test_without_a_sport_the_last_stage_is_generic(kb: KnowledgeBase) -> None:
    report = _report(kb, "man", "has had knee pain for 2 weeks")
    assert not [p for p in report.plan.personalisation if p.id in kb.activities]
    last = report.plan.rehabilitation.stages[-1]
    assert not any(c.startswith("For ") for c in last.progress_criteria)


def test_rubric_checks_post_operative_stages_against_their_own_limits(kb: KnowledgeBase) -> None:
    report = _report(kb, "man", "underwent ACL reconstruction 2 weeks ago")
    plan = report.plan.model_copy(deep=True)
    first = plan.rehabilitation.stages[0]
    assert first.post_operative
    hop = kb.exercises["hop-progression"]
    assert "impact" in hop.joint_loads
    first.exercises.append(first.exercises[0].model_copy(update={"id": hop.id, "name": hop.name}))
    unsafe = assess_plan(kb, plan, report.case).unsafe
    assert any(hop.name in u and "impact" in u for u in unsafe), unsafe


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        ("A 40-year-old footballer with knee pain for 3 months.", ["cutting-sport"]),
        ("A 40-year-old former footballer with knee pain for 3 months.", []),
        ("A 40-year-old retired labourer with shoulder pain for 3 months.", []),
        ("A 40-year-old man told he has tennis elbow, with elbow pain for 3 months.", []),
        ("A 22-year-old tennis player with lateral elbow pain for 3 months.", ["racquet-sport"]),
    ],
)
def test_only_an_activity_the_patient_does_now_shapes_the_plan(
    kb: KnowledgeBase, history: str, expected: list[str]
) -> None:
    report = analyze_text(f"History: {history}", kb)
    assert [p.id for p in report.plan.personalisation if p.id in kb.activities] == expected


def test_imaging_prose_does_not_make_the_patient_a_runner(kb: KnowledgeBase) -> None:
    report = analyze_text(
        "History: A 50-year-old woman with thigh pain for 2 months.\n"
        "Imaging: MRI shows a vessel running along the femoral cortex and marrow oedema.",
        kb,
    )
    assert not [p for p in report.plan.personalisation if p.id in kb.activities]


def test_red_flag_referrals_name_their_flag_and_urgency(kb: KnowledgeBase) -> None:
    report = analyze_text(
        "History: A 68-year-old man with a history of prostate cancer has low back pain for "
        "6 weeks, worse at night, with weight loss.",
        kb,
    )
    flagged = [t for t in report.plan.referral if t.red_flag]
    assert flagged, [t.text for t in report.plan.referral]
    raised = {f.id: f.urgency for f in report.red_flags}
    for item in flagged:
        assert item.red_flag in raised and item.urgency == raised[item.red_flag]
    assert all(t.red_flag is None for t in report.plan.referral if not t.text.startswith("Red"))
