"""plan: Assessment -> Plan (treatment pathway, referral, staged FITT-VP rehabilitation).

The leading condition's KB pathway and protocol are instantiated for this
patient: exercises are chosen from the library by the muscles they train
(for a nerve lesion, the muscles the localised nerve supplies), filtered by
the loads each stage must avoid and by the patient's own precautions
(comorbidities, medications, age), and the stage the patient starts in
follows the assessed stage of the process — or, when the case says the
patient was operated on, the protocol's post-operative track. A sport or
activity the case states aims the last stage at returning to it.
"""

from __future__ import annotations

from typing import Literal

from dxrx.kb.loader import KnowledgeBase
from dxrx.kb.schema import Condition, ProtocolStage, TreatmentStep
from dxrx.model import (
    Assessment,
    Case,
    Personalisation,
    Plan,
    Rehabilitation,
    RehabStage,
    TreatmentItem,
)
from dxrx.plan.exercises import allowed_here, prescription, stage_plan, target_muscles
from dxrx.plan.personalise import Applied, Pursuit, activities, applicable, exercise_ban
from dxrx.plan.track import choose_track

__all__ = ["make_plan", "plan_for_condition"]


def _for_activities(
    kb: KnowledgeBase,
    last: RehabStage,
    stage: ProtocolStage,
    pursuits: list[Pursuit],
    applied: list[Applied],
) -> list[Personalisation]:
    """Aim the last stage at the sports the patient wants back, and say what changed."""
    out: list[Personalisation] = []
    fv = stage.fitt_vp
    for pu in pursuits:
        act = pu.activity
        changes: list[str] = []
        for ex_id in act.drills:
            ex = kb.exercises[ex_id]
            if any(rx.id == ex_id for rx in last.exercises):
                continue
            if not allowed_here(stage, ex, lambda e: exercise_ban(e, applied)):
                changes.append(
                    f"{last.name}: {ex.name} not added (unsafe in this stage or for this patient)"
                )
                continue
            last.exercises.append(prescription(kb, ex, f"return to {act.name}", fv))
            changes.append(f"{last.name}: added {ex.name}")
        for crit in act.return_criteria:
            last.progress_criteria.append(f"For {act.name}: {crit}")
        changes.append(f"{last.name}: {len(act.return_criteria)} return criteria for {act.name}")
        out.append(
            Personalisation(
                id=act.id,
                name=act.name,
                trigger=pu.trigger,
                span=pu.span,
                changes=changes,
                advice=f"{act.demands} {act.advice}",
                refs=list(act.refs),
            )
        )
    return out


def _step(s: TreatmentStep, applied: list[Applied], changes: dict[str, list[str]]) -> TreatmentItem:
    status: Literal["advised", "caution", "withheld"] = "advised"
    notes: list[str] = []
    refs = list(s.refs)
    for a in applied:
        for pc in a.precaution.treatment:
            if pc.phase != s.phase:
                continue
            if pc.action == "withhold":
                status = "withheld"
            elif status == "advised":
                status = "caution"
            notes.append(f"{a.precaution.name}: {pc.text}")
            refs += [r for r in a.precaution.refs if r not in refs]
            verb = "withheld" if pc.action == "withhold" else "qualified"
            changes.setdefault(a.precaution.name, []).append(f"{s.phase} step {verb}")
    return TreatmentItem(
        phase=s.phase,
        text=s.text,
        criteria=s.criteria,
        refer_to=s.refer_to,
        status=status,
        caution=" ".join(notes) or None,
        refs=refs,
    )


def plan_for_condition(
    kb: KnowledgeBase,
    cond: Condition,
    assessment: Assessment | None = None,
    *,
    stage: str | None = None,
    case: Case | None = None,
) -> Plan:
    """The condition's pathway and protocol; without an assessment, for ``stage`` if given."""
    protocol = kb.protocols[cond.rehab_protocol]
    targets, basis = target_muscles(kb, cond, assessment)
    track = choose_track(kb, protocol, assessment, stage)
    patient = case or (assessment.case if assessment else None)
    applied = applicable(kb, patient)
    changes: dict[str, list[str]] = {}
    stages = [
        stage_plan(kb, st, targets, i == track.current, applied, changes, post_op)
        for i, (st, post_op) in enumerate(track.stages)
    ]
    for_sport = _for_activities(
        kb, stages[-1], track.stages[-1][0], activities(kb, patient), applied
    )
    steps = [_step(s, applied, changes) for s in cond.treatment]
    referral = [s for s in steps if s.phase == "referral"]
    safety: list[str] = []
    if assessment is not None:
        for flag in assessment.red_flags:
            referral.insert(
                0,
                TreatmentItem(
                    phase="referral",
                    text=f"Red flag — {flag.name}: {flag.action}",
                    criteria=flag.concern,
                    refer_to=None,
                    red_flag=flag.id,
                    urgency=flag.urgency,
                    refs=list(flag.refs),
                ),
            )
            safety.append(
                f"{flag.name}: exercise beyond gentle, symptom-limited activity waits until this "
                "is assessed."
            )
    return Plan(
        condition_id=cond.id,
        condition_name=cond.name,
        treatment=[s for s in steps if s.phase != "referral"],
        referral=referral,
        personalisation=[
            Personalisation(
                id=a.precaution.id,
                name=a.precaution.name,
                trigger=a.trigger,
                span=a.span,
                changes=changes.get(a.precaution.name, []),
                advice=a.precaution.advice,
                refs=list(a.precaution.refs),
            )
            for a in applied
        ]
        + for_sport,
        rehabilitation=Rehabilitation(
            protocol_id=protocol.id,
            protocol_name=protocol.name,
            target_muscles=[kb.name_of(m) for m in targets],
            target_basis=basis,
            stages=stages,
            start_basis=track.basis,
            start_span=track.span,
            refs=list(protocol.refs),
        ),
        safety=safety,
    )


def make_plan(assessment: Assessment, kb: KnowledgeBase) -> Plan:
    leading = kb.conditions[assessment.differential[0].id]
    return plan_for_condition(kb, leading, assessment)
