"""Plan-quality rubric: completeness, targeting, safety and progression, as code.

It checks a dxrx Plan against the KB it came from, so that a regression in the
planner or in a protocol (a missing FITT-VP element, an exercise that loads a
tissue the stage must protect, a step the patient's medicines rule out) shows
up as a number in ``dxrx bench`` rather than in a clinic.
"""

from __future__ import annotations

import re
from itertools import pairwise

from pydantic import BaseModel, Field

from dxrx.kb.loader import GENERAL_POST_OP, KnowledgeBase
from dxrx.kb.schema import ProtocolStage
from dxrx.model import Case, ExerciseRx, FittVp, Plan
from dxrx.plan.personalise import applicable, exercise_ban

_SCALE = re.compile(
    r"rpe|borg|%|/10|\brm\b|1rm|effort|mvc|heart rate|talk test|pain|tolerance|"
    r"load|resistance|intensity|easy|moderate|heavy|light|gentle|maximal|submaximal",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d|daily|weekly|once|twice|every|each|alternate|a day|a week")
_JUSTIFIED = ("trains ", "lumbopelvic", "part of this stage", "general conditioning", "return to ")
_EARLY_NO_STRETCH = frozenset({"muscle-injury", "tendon-tear"})


class PlanQuality(BaseModel):
    completeness: float = Field(ge=0, le=1)
    targeting: float = Field(ge=0, le=1)
    progression: float = Field(ge=0, le=1)
    unsafe: list[str]
    problems: list[str]
    score: float = Field(ge=0, le=1)

    @property
    def complete(self) -> bool:
        return self.completeness == 1.0


FITT_ELEMENTS = ("frequency", "intensity", "time", "type", "volume", "progression")
_GAP = {
    "frequency": "frequency has no count",
    "intensity": "intensity names no scale",
    "time": "time has no duration",
    "type": "type is empty",
    "volume": "volume has no sets, repetitions or minutes",
    "progression": "progression is empty",
}


def fitt_missing(fv: FittVp) -> list[str]:
    """The FITT-VP elements a stage states without a concrete value."""
    concrete = {
        "frequency": bool(_NUMBER.search(fv.frequency)),
        "intensity": bool(_SCALE.search(fv.intensity)),
        "time": bool(re.search(r"\d", fv.time)),
        "type": len(fv.type) >= 3,
        "volume": bool(re.search(r"\d", fv.volume)),
        "progression": len(fv.progression) >= 3,
    }
    return [e for e in FITT_ELEMENTS if not concrete[e]]


def _fitt_gaps(fv: FittVp) -> list[str]:
    return [_GAP[e] for e in fitt_missing(fv)]


def _stage_rules(
    kb: KnowledgeBase, protocol_id: str
) -> tuple[dict[str, ProtocolStage], dict[str, ProtocolStage]]:
    """The KB stages a plan's stages came from: main protocol, and post-operative track."""
    protocol = kb.protocols.get(protocol_id)
    if protocol is None:
        return {}, {}
    track = protocol.post_operative
    post = track.stages if track else kb.protocols[GENERAL_POST_OP].stages
    return {st.id: st for st in protocol.stages}, {st.id: st for st in post}


def _unsafe_exercises(
    kb: KnowledgeBase, plan: Plan, case: Case | None, category: str | None
) -> list[str]:
    main, post_op = _stage_rules(kb, plan.rehabilitation.protocol_id)
    applied = applicable(kb, case)
    out: list[str] = []
    for i, st in enumerate(plan.rehabilitation.stages):
        rule = (post_op if st.post_operative else main).get(st.id)
        for rx in st.exercises:
            ex = kb.exercises.get(rx.id)
            if ex is None:
                out.append(f"{st.name}: {rx.name} is not in the exercise library")
                continue
            if rule is not None and set(ex.joint_loads) & set(rule.avoid_loads):
                loads = ", ".join(sorted(set(ex.joint_loads) & set(rule.avoid_loads)))
                out.append(f"{st.name}: {rx.name} imposes {loads}, which this stage avoids")
            why = exercise_ban(ex, applied)
            if why is not None:
                out.append(f"{st.name}: {rx.name} is unsafe for this patient ({why})")
            if i == 0 and category in _EARLY_NO_STRETCH and ex.category == "stretch":
                out.append(f"{st.name}: stretching an acutely injured muscle or tendon")
            if i == 0 and category == "bone-stress" and "impact" in ex.joint_loads:
                out.append(f"{st.name}: impact loading of a bone stress injury")
    for a in applied:
        withheld = {pc.phase for pc in a.precaution.treatment if pc.action == "withhold"}
        for t in plan.treatment:
            if t.phase in withheld and t.status != "withheld":
                out.append(f"{t.phase} advised despite {a.precaution.name.lower()}")
    return out


def _targeted(rx: ExerciseRx) -> bool:
    return rx.why.startswith(_JUSTIFIED)


def assess_plan(kb: KnowledgeBase, plan: Plan, case: Case | None = None) -> PlanQuality:
    """Score a plan; every deduction is listed in ``problems`` or ``unsafe``."""
    problems: list[str] = []
    checks = passed = 0
    stages = plan.rehabilitation.stages
    for st in stages:
        gaps = _fitt_gaps(st.fitt_vp)
        for g in gaps:
            problems.append(f"{st.name}: {g}")
        for ok, what in (
            (bool(st.exercises), "no exercises"),
            (bool(st.goals), "no goals"),
            (bool(st.entry_criteria), "no entry criteria"),
            (bool(st.progress_criteria), "no progression criteria"),
        ):
            checks += 1
            passed += ok
            if not ok:
                problems.append(f"{st.name}: {what}")
        checks += 6
        passed += 6 - len(gaps)
    phases = {t.phase for t in plan.treatment}
    for ok, what in (
        (bool(phases & {"education", "conservative"}), "no conservative first step"),
        (bool(plan.referral), "no referral advice"),
        (bool(stages), "no rehabilitation stages"),
    ):
        checks += 1
        passed += ok
        if not ok:
            problems.append(what)
    completeness = passed / checks if checks else 0.0

    exercises = [rx for st in stages for rx in st.exercises]
    targeted = [rx for rx in exercises if _targeted(rx)]
    targeting = len(targeted) / len(exercises) if exercises else 0.0
    for rx in exercises:
        if not _targeted(rx):
            problems.append(f"{rx.name}: no stated target or justification")

    protocol = kb.protocols.get(plan.rehabilitation.protocol_id)
    prog_checks = [len(stages) >= 2]
    if protocol is not None:
        levels = [st.max_level for st in protocol.stages]
        prog_checks.append(all(a <= b for a, b in pairwise(levels)))
    prog_checks += [bool(st.fitt_vp.progression) for st in stages]
    progression = sum(prog_checks) / len(prog_checks)
    if not prog_checks[0]:
        problems.append("fewer than two stages")
    if protocol is not None and not prog_checks[1]:
        problems.append("exercise level falls between stages")

    cond = kb.conditions.get(plan.condition_id)
    unsafe = _unsafe_exercises(kb, plan, case, cond.category if cond else None)
    safety = 0.0 if unsafe else 1.0
    score = round((completeness + targeting + progression + safety) / 4, 3)
    return PlanQuality(
        completeness=round(completeness, 3),
        targeting=round(targeting, 3),
        progression=round(progression, 3),
        unsafe=unsafe,
        problems=problems,
        score=score,
    )
