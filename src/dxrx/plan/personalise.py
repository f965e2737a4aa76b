"""Which of the KB's precautions and activity profiles apply to this patient.

Precautions and activities are data (``precautions.yaml``, ``activities.yaml``);
this module only finds the ones a case triggers — a comorbidity, medication,
sport or activity level stated present, or the patient's age — so that the
planner can withhold or annotate treatment steps, swap unsafe exercises and
aim the last stage at the patient's own activity, and say why in the plan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from dxrx.ingest.lexicon import language_rules
from dxrx.kb.loader import KnowledgeBase
from dxrx.kb.schema import Activity, Exercise, Precaution
from dxrx.model import Case, Finding, Span


@dataclass(frozen=True)
class Applied:
    precaution: Precaution
    trigger: str
    span: Span | None


def stated(kb: KnowledgeBase, case: Case | None, concepts: list[str]) -> Finding | None:
    """The first finding the case states as present that is (a kind of) one of ``concepts``."""
    if case is None:
        return None
    return next(
        (
            f
            for f in case.findings
            if not f.negated
            and not f.uncertain
            and any(kb.concept_is_a(f.concept, c) for c in concepts)
        ),
        None,
    )


def applicable(kb: KnowledgeBase, case: Case | None) -> list[Applied]:
    """Precautions the case triggers, each with the finding (or age) that triggered it."""
    if case is None:
        return []
    out: list[Applied] = []
    for pre in kb.precautions.values():
        hit = stated(kb, case, pre.concepts)
        if hit is not None:
            out.append(Applied(pre, hit.label, hit.span))
        elif pre.min_age is not None and case.age is not None and case.age >= pre.min_age:
            out.append(Applied(pre, f"age {case.age}", None))
    return out


@dataclass(frozen=True)
class Pursuit:
    """A sport or activity level the case states, with the words that state it."""

    activity: Activity
    trigger: str
    span: Span


@cache
def _activity_rules() -> tuple[re.Pattern[str], re.Pattern[str]]:
    rules = language_rules()["activity"]
    heads = "|".join(re.escape(h) for h in rules["eponym_heads"])
    return re.compile("|".join(rules["past"]), re.I), re.compile(rf"^['’]?s?\s+(?:{heads})\b", re.I)


def current_activity(text: str, f: Finding) -> bool:
    """Whether a sport word says what the patient does now: not "former footballer", not
    the eponym in "tennis elbow"."""
    past, eponym = _activity_rules()
    before = text[max(f.span.start, f.cue.start - 40) : f.cue.start]
    return not past.search(before) and not eponym.match(text[f.cue.end : f.cue.end + 20])


def activities(kb: KnowledgeBase, case: Case | None) -> list[Pursuit]:
    """The activities the patient wants to return to, most specific first.

    Only the history counts (imaging prose such as "a vessel running along the
    cortex" says nothing about the patient's sport), and only activities the
    patient does now (see ``current_activity``). A profile is dropped when a
    more specific one is also stated (a footballer matches both the cutting-sport
    and the general sport profile).
    """
    hits: list[Pursuit] = []
    history = (
        case.model_copy(
            update={
                "findings": [
                    f
                    for f in case.findings
                    if f.span.section == "history" and current_activity(case.text, f)
                ]
            }
        )
        if case is not None
        else None
    )
    for act in kb.activities.values():
        hit = stated(kb, history, act.concepts)
        if hit is not None:
            hits.append(Pursuit(act, hit.label, hit.span))
    specific = [
        p
        for p in hits
        if not any(
            q is not p
            and any(
                kb.concept_is_a(qc, pc) and qc != pc
                for qc in q.activity.concepts
                for pc in p.activity.concepts
            )
            for q in hits
        )
    ]
    return sorted(specific, key=lambda p: p.span.start)


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
