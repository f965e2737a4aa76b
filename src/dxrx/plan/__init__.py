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

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from dxrx.kb.loader import GENERAL_POST_OP, KnowledgeBase
from dxrx.kb.schema import Condition, Exercise, Protocol, ProtocolStage, TreatmentStep
from dxrx.kb.schema import FittVp as KbFittVp
from dxrx.model import (
    Assessment,
    Case,
    ExerciseRx,
    FittVp,
    Personalisation,
    Plan,
    Rehabilitation,
    RehabStage,
    Span,
    TreatmentItem,
)
from dxrx.plan.personalise import (
    Applied,
    Pursuit,
    Restriction,
    activities,
    applicable,
    exercise_ban,
    stated,
)

Ban = Callable[[Exercise], Restriction | None]

__all__ = ["make_plan", "plan_for_condition"]

POST_OPERATIVE = "post-operative"
CORE_MUSCLES = frozenset(
    {
        "transversus-abdominis",
        "multifidus",
        "internal-oblique",
        "external-oblique",
        "rectus-abdominis",
        "erector-spinae",
        "quadratus-lumborum",
    }
)
PER_STAGE = 5
GENERAL_MIN = 2
GENERAL = ("aerobic", "mobility", "return-to-sport", "balance", "isotonic", "heavy-slow-resistance")


def target_muscles(
    kb: KnowledgeBase, cond: Condition, assessment: Assessment | None
) -> tuple[list[str], str]:
    loc = assessment.localisation if assessment else None
    if loc is not None and loc.site_id and loc.site_id in cond.lesion_sites:
        supplied = sorted(kb.muscles_of_site.get(loc.site_id, frozenset()))
        return supplied, f"muscles supplied by the {loc.site} (the localised lesion)"
    if cond.target_muscles:
        return list(cond.target_muscles), f"muscles loaded in the rehabilitation of {cond.name}"
    if cond.lesion_sites:
        supplied_set: set[str] = set()
        for site in cond.lesion_sites:
            supplied_set |= kb.muscles_of_site.get(site, frozenset())
        names = ", ".join(kb.name_of(s) for s in cond.lesion_sites)
        return sorted(supplied_set), f"muscles supplied by the {names}"
    if loc is not None and loc.affected_muscles:
        ids = [m.id for m in kb.muscles.values() if m.name in loc.affected_muscles]
        return ids, "muscles involved on imaging or examination"
    return [], "no specific target muscles: general conditioning"


def _allowed_here(stage: ProtocolStage, ex: Exercise, ban: Ban | None) -> bool:
    return not set(ex.joint_loads) & set(stage.avoid_loads) and (ban is None or ban(ex) is None)


def _pick(
    kb: KnowledgeBase, stage: ProtocolStage, targets: list[str], ban: Ban | None = None
) -> list[tuple[Exercise, str]]:
    wanted = set(targets)
    allowed = [
        ex
        for ex in kb.exercises.values()
        if ex.category in stage.categories
        and not ex.activity_only
        and ex.level <= stage.max_level
        and _allowed_here(stage, ex, ban)
    ]
    chosen: list[tuple[Exercise, str]] = []
    covered: set[str] = set()
    pool = [ex for ex in allowed if (set(ex.targets) | set(ex.secondary)) & wanted]
    while pool and len(chosen) < PER_STAGE:
        # greedy cover: first the exercise training most not-yet-covered targets
        best = max(
            pool,
            key=lambda ex: (
                len((set(ex.targets) & wanted) - covered),
                len(set(ex.targets) & wanted),
                -ex.level,
                ex.id,
            ),
        )
        pool.remove(best)
        hits = [kb.name_of(m) for m in best.targets if m in wanted] or [
            kb.name_of(m) for m in best.secondary if m in wanted
        ]
        chosen.append((best, "trains " + ", ".join(hits)))
        covered |= set(best.targets) & wanted
    taken = {ex.id for ex, _ in chosen}
    if len(chosen) < GENERAL_MIN:
        # no (or too few) target muscles trainable in this stage: general conditioning
        general = [ex for ex in allowed if ex.category in GENERAL and ex.id not in taken]
        general.sort(key=lambda ex: (GENERAL.index(ex.category), ex.level, ex.id))
        for ex in general[: GENERAL_MIN - len(chosen)]:
            chosen.append((ex, f"general conditioning ({ex.category})"))
            taken.add(ex.id)
    if stage.include_core:
        core = [ex for ex in allowed if set(ex.targets) & CORE_MUSCLES and ex.id not in taken]
        core.sort(key=lambda ex: (-len(set(ex.targets) & CORE_MUSCLES), ex.level, ex.id))
        for ex in core[:2]:
            chosen.append((ex, "lumbopelvic (core) control supporting the affected limb"))
            taken.add(ex.id)
    for ex_id in stage.extra_exercises:
        ex = kb.exercises[ex_id]
        if ex_id not in taken and _allowed_here(stage, ex, ban):
            chosen.append((ex, f"part of this stage for every patient ({ex.category})"))
            taken.add(ex_id)
    return chosen


def _rx(kb: KnowledgeBase, ex: Exercise, why: str, fv: KbFittVp) -> ExerciseRx:
    return ExerciseRx(
        id=ex.id,
        name=ex.name,
        category=ex.category,
        targets=[kb.name_of(m) for m in ex.targets],
        dosage=f"{fv.volume}; {fv.intensity}",
        description=ex.description,
        cues=list(ex.cues),
        why=why,
        refs=list(ex.refs),
    )


def _stage_plan(
    kb: KnowledgeBase,
    stage: ProtocolStage,
    targets: list[str],
    current: bool,
    applied: list[Applied],
    changes: dict[str, list[str]],
    post_operative: bool = False,
) -> RehabStage:
    fv = stage.fitt_vp
    picked = _pick(kb, stage, targets, lambda ex: exercise_ban(ex, applied))
    if applied:
        kept = {ex.id for ex, _ in picked}
        for ex, _ in _pick(kb, stage, targets):
            why = exercise_ban(ex, applied)
            if ex.id not in kept and why is not None:
                changes.setdefault(why.precaution, []).append(
                    f"{stage.name}: left out {ex.name} ({why.reason})"
                )
    exercises = [_rx(kb, ex, why, fv) for ex, why in picked]
    return RehabStage(
        id=stage.id,
        name=stage.name,
        current=current,
        goals=list(stage.goals),
        entry_criteria=list(stage.entry_criteria),
        fitt_vp=FittVp(**fv.model_dump()),
        exercises=exercises,
        avoid=list(stage.avoid),
        progress_criteria=list(stage.progress_criteria),
        weeks=stage.weeks,
        post_operative=post_operative,
    )


def _current_index(stages: list[ProtocolStage], assessed: str | None) -> int:
    if assessed is None:
        return 0
    for i, st in enumerate(stages):
        if assessed in st.starts_at:
            return i
    return 0


@dataclass(frozen=True)
class Track:
    """The stages this patient goes through, which one is current, and why."""

    stages: list[tuple[ProtocolStage, bool]]  # (stage, post-operative)
    current: int
    basis: str
    span: Span | None = None


def _track(
    kb: KnowledgeBase, protocol: Protocol, assessment: Assessment | None, stage: str | None
) -> Track:
    """Post-operative stages first when the case says the patient was operated on."""
    case = assessment.case if assessment else None
    operated = stated(kb, case, ["post-operative"])
    if operated is not None or (assessment is None and stage == POST_OPERATIVE):
        own = protocol.post_operative
        if own is not None:
            post = own.stages
            rejoin = next(i for i, st in enumerate(protocol.stages) if st.id == own.rejoin)
        else:
            post = kb.protocols[GENERAL_POST_OP].stages
            rejoin = 1
        which = "this condition's" if own else "the general"
        why = (
            f"the case states the patient was operated on ({operated.cue.text!r})"
            if operated is not None
            else "as requested"
        )
        return Track(
            [(st, True) for st in post] + [(st, False) for st in protocol.stages[rejoin:]],
            0,
            f"post-operative: {why}; start with {which} post-operative stages",
            operated.span if operated is not None else None,
        )
    main = [(st, False) for st in protocol.stages]
    if assessment is not None:
        imaging = assessment.imaging
        current = _current_index(protocol.stages, imaging.stage)
        if imaging.stage is None:
            return Track(main, 0, "stage of the process not stated: start at the first stage")
        return Track(main, current, f"{imaging.stage} stage ({imaging.stage_basis.rstrip('.')})")
    if stage is not None:
        return Track(main, _current_index(protocol.stages, stage), f"{stage} stage, as requested")
    return Track(main, 0, "no case: the protocol from its first stage")


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
            if not _allowed_here(stage, ex, lambda e: exercise_ban(e, applied)):
                changes.append(
                    f"{last.name}: {ex.name} not added (unsafe in this stage or for this patient)"
                )
                continue
            last.exercises.append(_rx(kb, ex, f"return to {act.name}", fv))
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
    track = _track(kb, protocol, assessment, stage)
    patient = case or (assessment.case if assessment else None)
    applied = applicable(kb, patient)
    changes: dict[str, list[str]] = {}
    stages = [
        _stage_plan(kb, st, targets, i == track.current, applied, changes, post_op)
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
