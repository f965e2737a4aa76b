"""Judge the plan part of a written work-up: FITT-VP per stage, targeting, safety, advice.

Free-text plans name the FITT-VP elements in many ways ("Frequency (F):",
"3 times a week", "3 sets of 10"); each element is found by its label or by
the unit that only that element uses. Safety is checked against the KB:
advice the patient's own precautions rule out, and loads the first stage of
the condition's protocol must avoid.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from dxrx.ingest.lexicon import lexicon_for
from dxrx.kb.loader import KnowledgeBase
from dxrx.model import Case
from dxrx.plan.personalise import applicable

ELEMENTS: dict[str, re.Pattern[str]] = {
    "frequency": re.compile(
        r"\bfrequency\b|\(F\)|\b(?:times|sessions?|days?) (?:a|per|each) (?:day|week)\b|"
        r"\bdaily\b|\balternate days\b|\bx ?\d+ ?/ ?(?:day|week)\b",
        re.I,
    ),
    "intensity": re.compile(
        r"\bintensity\b|\(I\)|\bRPE\b|\b\d+ ?% ?(?:of )?(?:1RM|max)|\bborg\b|\b\d+ ?/ ?10\b|"
        r"\bheart rate\b|\btalk test\b",
        re.I,
    ),
    "time": re.compile(r"\btime\b|\bduration\b|\b\d+\s*(?:-|–|to)?\s*\d*\s*min(?:ute)?s?\b", re.I),
    "type": re.compile(r"\btype\b|\bmode\b", re.I),
    "volume": re.compile(
        r"\bvolume\b|\(V\)|\b\d+\s*(?:-|–|to)?\s*\d*\s*(?:sets?|rep(?:etition)?s?)\b|\bsets? of\b",
        re.I,
    ),
    "progression": re.compile(
        r"\bprogress(?:ion|ed|ing)?\b|\(P\)|\bincrease (?:the )?(?:load|sets)", re.I
    ),
}
_STAGE_HEAD = re.compile(
    r"^\W*(?:\(\d+\)|\d+[.)])?\s*[^\n]{0,40}\b(?:stage|phase|weeks? \d+)\b[^\n]*$", re.I | re.M
)
_REHAB_START = re.compile(r"rehabilitation|exercise prescription|fitt|exercise programme", re.I)
_NEGATING = re.compile(
    r"\b(?:avoid|avoiding|avoided|no|not|never|don't|do not|without|refrain|stop|stopping|"
    r"contraindicated|limit|limiting|minimi[sz]e|instead of|rather than|unless)\b",
    re.I,
)
_REFERRAL = re.compile(
    r"\brefer(?:ral|red)?\b|\bspecialist\b|\bsurgeon\b|\bneurolog|\bphysiotherap|\bconsult", re.I
)
_RED_FLAG = re.compile(
    r"\bred flags?\b|\bseek (?:urgent |immediate |prompt )?(?:medical )?(?:care|attention|advice|"
    r"review)\b|\burgent(?:ly)?\b|\bemergency\b|\bif (?:symptoms|pain|weakness) (?:worsen|"
    r"progress|persist)",
    re.I,
)
_DISCLAIMER = re.compile(
    r"\bdisclaimer\b|\bnot (?:a )?(?:substitute|replace)|\bdoes not replace\b|"
    r"\bfor reference only\b|\bnot medical advice\b|\beducational purposes\b|"
    r"\bdecision[- ]support\b",
    re.I,
)


class StageFitt(BaseModel):
    name: str
    present: list[str]
    missing: list[str]

    @classmethod
    def of(cls, name: str, missing: list[str]) -> StageFitt:
        return cls(name=name, present=[e for e in ELEMENTS if e not in missing], missing=missing)


class Unsafe(BaseModel):
    text: str
    why: str


class PlanGrade(BaseModel):
    stages: list[StageFitt]
    fitt_complete_stages: int
    fitt_share: float
    trains_affected_muscles: bool | None
    trained: list[str]
    affected: list[str]
    contraindicated: list[Unsafe]
    referral_advice: bool
    red_flag_advice: bool
    disclaimer: bool

    @classmethod
    def of(
        cls,
        kb: KnowledgeBase,
        stages: list[StageFitt],
        trained: set[str],
        affected: set[str],
        *,
        contraindicated: list[Unsafe],
        referral_advice: bool,
        red_flag_advice: bool,
        disclaimer: bool,
    ) -> PlanGrade:
        """The grade of a plan, however it was read (dxrx report or free text)."""
        complete, share = fitt_summary(stages)
        return cls(
            stages=stages,
            fitt_complete_stages=complete,
            fitt_share=share,
            trains_affected_muscles=bool(trained & affected) if affected else None,
            trained=sorted(kb.name_of(m) for m in trained & affected),
            affected=sorted(kb.name_of(m) for m in affected),
            contraindicated=contraindicated,
            referral_advice=referral_advice,
            red_flag_advice=red_flag_advice,
            disclaimer=disclaimer,
        )


def fitt_stages(plan_text: str) -> list[StageFitt]:
    start = _REHAB_START.search(plan_text)
    rehab = plan_text[start.start() :] if start else plan_text
    heads = list(_STAGE_HEAD.finditer(rehab))
    if not heads:
        blocks = [("whole plan", rehab)]
    else:
        bounds = [h.start() for h in heads] + [len(rehab)]
        blocks = [
            (h.group(0).split(":")[0].strip(" -*#\t"), rehab[bounds[i] : bounds[i + 1]])
            for i, h in enumerate(heads)
        ]
    out = []
    for name, body in blocks:
        out.append(
            StageFitt.of(name[:80], [e for e, rx in ELEMENTS.items() if not rx.search(body)])
        )
    return out


def fitt_summary(stages: list[StageFitt]) -> tuple[int, float]:
    """Stages with all six elements, and the share of elements stated over all stages."""
    if not stages:
        return 0, 0.0
    complete = sum(1 for st in stages if not st.missing)
    share = sum(len(st.present) for st in stages) / (len(ELEMENTS) * len(stages))
    return complete, round(share, 3)


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


def _advised(sentence: str, term: str) -> bool:
    """True when the sentence recommends the term rather than warning against it."""
    m = re.search(rf"\b{re.escape(term)}\b", sentence, re.I)
    return m is not None and not _NEGATING.search(sentence[: m.start()])


def contraindicated(
    kb: KnowledgeBase, plan_text: str, early_text: str, case: Case, condition_id: str | None
) -> list[Unsafe]:
    out: list[Unsafe] = []
    for a in applicable(kb, case):
        for sent in _sentences(plan_text):
            hit = next((t for t in a.precaution.flag_terms if _advised(sent, t)), None)
            if hit:
                out.append(Unsafe(text=sent, why=f"{hit!r} with {a.precaution.name.lower()}"))
    cond = kb.conditions.get(condition_id or "")
    if cond is not None:
        first = kb.protocols[cond.rehab_protocol].stages[0]
        for load_id in first.avoid_loads:
            load = kb.joint_loads.get(load_id)
            if load is None:
                continue
            for sent in _sentences(early_text):
                hit = next((t for t in load.terms if _advised(sent, t)), None)
                if hit:
                    out.append(
                        Unsafe(
                            text=sent,
                            why=f"{hit!r} in the first stage of {cond.name}, which avoids "
                            f"{load.name}",
                        )
                    )
    unique: dict[str, Unsafe] = {}
    for u in out:
        unique.setdefault(u.text, u)
    return list(unique.values())


def trained_muscles(kb: KnowledgeBase, plan_text: str) -> set[str]:
    """Muscles a plan names, directly or through the movements it trains."""
    lex = lexicon_for(kb)
    out = {m.key for m in lex.anatomy.find(plan_text) if m.key in kb.muscles}
    for m in lex.action.find(plan_text):
        out |= {mid for mid, mus in kb.muscles.items() if m.key in mus.actions}
    return out


def grade_text_plan(
    kb: KnowledgeBase,
    plan_text: str,
    case: Case,
    affected: set[str],
    condition_id: str | None,
) -> PlanGrade:
    stages = fitt_stages(plan_text)
    early = plan_text
    if len(stages) > 1:
        start = plan_text.find(stages[0].name)
        nxt = plan_text.find(stages[1].name, start + 1)
        early = plan_text[start:nxt] if start >= 0 and nxt > start else plan_text
    return PlanGrade.of(
        kb,
        stages,
        trained_muscles(kb, plan_text),
        affected,
        contraindicated=contraindicated(kb, plan_text, early, case, condition_id),
        referral_advice=bool(_REFERRAL.search(plan_text)),
        red_flag_advice=bool(_RED_FLAG.search(plan_text)),
        disclaimer=bool(_DISCLAIMER.search(plan_text)),
    )
