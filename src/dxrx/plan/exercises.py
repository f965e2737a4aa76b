"""Exercises for one stage: chosen by the muscles they train, within the stage's limits.

A greedy cover picks the exercises that train the most not-yet-covered target
muscles (for a nerve lesion, the muscles the localised nerve supplies); loads
the stage avoids and exercises the patient's precautions ban are left out, and
the plan says which were left out and why.
"""

from __future__ import annotations

from collections.abc import Callable

from dxrx.kb.loader import KnowledgeBase
from dxrx.kb.schema import Condition, Exercise, ProtocolStage
from dxrx.kb.schema import FittVp as KbFittVp
from dxrx.model import Assessment, ExerciseRx, FittVp, RehabStage
from dxrx.plan.personalise import Applied, Restriction, exercise_ban

Ban = Callable[[Exercise], Restriction | None]

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


def allowed_here(stage: ProtocolStage, ex: Exercise, ban: Ban | None) -> bool:
    return not set(ex.joint_loads) & set(stage.avoid_loads) and (ban is None or ban(ex) is None)


def pick(
    kb: KnowledgeBase, stage: ProtocolStage, targets: list[str], ban: Ban | None = None
) -> list[tuple[Exercise, str]]:
    wanted = set(targets)
    allowed = [
        ex
        for ex in kb.exercises.values()
        if ex.category in stage.categories
        and not ex.activity_only
        and ex.level <= stage.max_level
        and allowed_here(stage, ex, ban)
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
        if ex_id not in taken and allowed_here(stage, ex, ban):
            chosen.append((ex, f"part of this stage for every patient ({ex.category})"))
            taken.add(ex_id)
    return chosen


def prescription(kb: KnowledgeBase, ex: Exercise, why: str, fv: KbFittVp) -> ExerciseRx:
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


def stage_plan(
    kb: KnowledgeBase,
    stage: ProtocolStage,
    targets: list[str],
    current: bool,
    applied: list[Applied],
    changes: dict[str, list[str]],
    post_operative: bool = False,
) -> RehabStage:
    fv = stage.fitt_vp
    picked = pick(kb, stage, targets, lambda ex: exercise_ban(ex, applied))
    if applied:
        kept = {ex.id for ex, _ in picked}
        for ex, _ in pick(kb, stage, targets):
            why = exercise_ban(ex, applied)
            if ex.id not in kept and why is not None:
                changes.setdefault(why.precaution, []).append(
                    f"{stage.name}: left out {ex.name} ({why.reason})"
                )
    exercises = [prescription(kb, ex, why, fv) for ex, why in picked]
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
