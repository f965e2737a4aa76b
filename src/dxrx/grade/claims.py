"""Read a written work-up: where it states the diagnosis, its findings, and its plan.

External work-ups (a language model's answer, a student's essay) have no fixed
layout, so the reader relies on the cues clinicians use: a "most consistent
diagnosis"-type sentence, a treatment or rehabilitation heading where the plan
begins, and condition names from the KB for the differential.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dxrx.ingest.lexicon import Match, Matcher
from dxrx.kb.loader import KnowledgeBase

_DX_CUE = re.compile(
    r"(most (?:likely|consistent|probable) diagnosis|final diagnosis|working diagnosis|"
    r"leading diagnosis|diagnosis (?:is|of)|diagnosis\s*:|impression\s*:|conclusion\s*:|"
    r"most (?:consistent|compatible) with|in keeping with|diagnosed with)",
    re.IGNORECASE,
)
_PLAN_HEAD = re.compile(
    r"^\W*(?:\d+[.)]\s*|[ivx]+[.)]\s*|#+\s*)?(?:conservative |initial )?"
    r"(?:treatment|management|therapy|therapeutic|rehabilitation|exercise prescription|"
    r"plan\b|recommendations?)",
    re.IGNORECASE | re.MULTILINE,
)
_NEGATED_MENTION = re.compile(
    r"\b(?:no|not|without|absence of|negative for|unlikely|excluded|ruled out|rather than)\b"
    r"[^.;:]{0,60}$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Reading:
    text: str
    findings_end: int
    statement: str | None
    mentions: list[Match]
    main: str | None


_MATCHERS: dict[str, Matcher] = {}


def condition_matcher(kb: KnowledgeBase) -> Matcher:
    """Condition names and aliases as phrases; built once per KB version."""
    found = _MATCHERS.get(kb.version)
    if found is None:
        table = {c.id: [c.name, *c.aliases] for c in kb.conditions.values()}
        found = _MATCHERS[kb.version] = Matcher("condition", table, set())
    return found


def _statement(text: str) -> tuple[str, int] | None:
    m = _DX_CUE.search(text)
    if m is None:
        return None
    end = text.find("\n", m.end())
    end = len(text) if end < 0 else end
    line = text[m.end() : end].strip(" :\t")
    line = re.sub(r"^(?:is|was|of|would be)\b\s*:?\s*", "", line, flags=re.I)
    if not line:  # the diagnosis itself is on the next non-empty line
        nxt = re.search(r"\S[^\n]*", text[end:])
        if nxt:
            line = nxt.group(0).strip()
            end = end + nxt.end()
    return line, end


def read_workup(text: str, kb: KnowledgeBase) -> Reading:
    """Split a work-up into its findings part and plan part and find the diagnoses it names."""
    stated = _statement(text)
    plan = _PLAN_HEAD.search(text, stated[1] if stated else 0)
    findings_end = plan.start() if plan else len(text)
    mentions = [
        m
        for m in condition_matcher(kb).find(text)
        if not _NEGATED_MENTION.search(text[max(0, text.rfind(".", 0, m.start)) : m.start])
    ]
    main = None
    if stated:
        inside = condition_matcher(kb).find(stated[0])
        main = inside[0].key if inside else None
    if main is None and mentions:
        main = mentions[0].key
    return Reading(text, findings_end, stated[0] if stated else None, mentions, main)
