"""Which of the KB's precautions apply to this patient, and what each one bans.

Precautions are data (``precautions.yaml``); this module only finds the ones a
case triggers — a comorbidity or medication stated present, or the patient's
age — so that the planner can withhold or annotate treatment steps and swap
unsafe exercises, and say why in the plan.
"""

from __future__ import annotations

from dataclasses import dataclass

from dxrx.kb.loader import KnowledgeBase
from dxrx.kb.schema import Exercise, Precaution
from dxrx.model import Case, Span


@dataclass(frozen=True)
class Applied:
    precaution: Precaution
    trigger: str
    span: Span | None


def applicable(kb: KnowledgeBase, case: Case | None) -> list[Applied]:
    """Precautions the case triggers, each with the finding (or age) that triggered it."""
    if case is None:
        return []
    out: list[Applied] = []
    for pre in kb.precautions.values():
        hit = next(
            (
                f
                for f in case.findings
                if not f.negated
                and not f.uncertain
                and any(kb.concept_is_a(f.concept, c) for c in pre.concepts)
            ),
            None,
        )
        if hit is not None:
            out.append(Applied(pre, hit.label, hit.span))
        elif pre.min_age is not None and case.age is not None and case.age >= pre.min_age:
            out.append(Applied(pre, f"age {case.age}", None))
    return out


@dataclass(frozen=True)
class Restriction:
    """Which precaution rules an exercise out, and why."""

    precaution: str
    reason: str

    def __str__(self) -> str:
        return f"{self.precaution}: {self.reason}"


def exercise_ban(ex: Exercise, applied: list[Applied]) -> Restriction | None:
    """Why an exercise is unsafe for this patient, or None when it is allowed."""
    for a in applied:
        pre = a.precaution
        loads = set(ex.joint_loads) & set(pre.avoid_loads)
        if loads:
            return Restriction(pre.name, f"avoids {', '.join(sorted(loads))}")
        if ex.category in pre.avoid_categories:
            return Restriction(pre.name, f"no {ex.category} exercise")
        pos = ex.position.lower()
        for word in pre.avoid_positions:
            if word in pos:
                return Restriction(pre.name, f"not done {word}")
    return None
