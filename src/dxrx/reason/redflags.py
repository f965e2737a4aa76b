"""Red flags: findings that call for urgent action whatever the diagnosis."""

from __future__ import annotations

from dxrx.kb.loader import KnowledgeBase
from dxrx.model import Case, Evidence, RedFlagHit


def red_flags(case: Case, kb: KnowledgeBase) -> tuple[list[RedFlagHit], list[Evidence]]:
    """Raised flags with their evidence, and the flag findings the case explicitly denies."""
    hits: list[RedFlagHit] = []
    screened: list[Evidence] = []
    for flag in kb.red_flags.values():
        evidence: list[Evidence] = []
        for trig in flag.triggers:
            if trig.min_age is not None and (case.age is None or case.age < trig.min_age):
                continue
            if trig.max_age is not None and (case.age is None or case.age > trig.max_age):
                continue
            for f in case.findings:
                if not kb.concept_is_a(f.concept, trig.concept):
                    continue
                if f.negated:
                    screened.append(
                        Evidence(
                            statement=f"{flag.name}: {f.label}",
                            weight=0.0,
                            span=f.span,
                            refs=list(flag.refs),
                        )
                    )
                    continue
                age = f" at age {case.age}" if trig.min_age is not None else ""
                evidence.append(
                    Evidence(
                        statement=f"{f.label}{age}", weight=1.0, span=f.span, refs=list(flag.refs)
                    )
                )
        if evidence:
            hits.append(
                RedFlagHit(
                    id=flag.id,
                    name=flag.name,
                    concern=flag.concern,
                    action=flag.action,
                    urgency=flag.urgency,
                    evidence=evidence,
                    refs=list(flag.refs),
                )
            )
    order = {"emergency": 0, "urgent": 1, "soon": 2}
    hits.sort(key=lambda h: order.get(h.urgency, 3))
    return hits, screened
