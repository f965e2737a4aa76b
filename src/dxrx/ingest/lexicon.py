"""Phrase matchers compiled from the KB vocabulary and the ingest language rules.

One regular expression per kind of term (concept, anatomy, region, ...), with
alternatives sorted longest first, so that "gluteus medius tendon" wins over
"gluteus medius" at the same position. Hyphens and spaces are interchangeable
and a trailing plural is tolerated, because case reports spell terms freely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from dxrx.kb.loader import KnowledgeBase

_SEP = re.compile(r"[\s\-]+")


@dataclass(frozen=True, slots=True)
class Match:
    start: int
    end: int
    kind: str
    keys: tuple[str, ...]
    text: str

    @property
    def key(self) -> str:
        return self.keys[0]

    def overlaps(self, other: Match) -> bool:
        return self.start < other.end and other.start < self.end


def normalise(phrase: str) -> str:
    return _SEP.sub(" ", phrase.strip().lower())


def _pattern(phrase: str) -> str:
    parts = [re.escape(p) for p in _SEP.split(phrase.strip()) if p]
    body = r"[\s\-]+".join(parts)
    if phrase[-1:].isalpha():
        body += r"(?:e?s)?"
    return body


class Matcher:
    """Finds every phrase of one kind in a text; a phrase may stand for several ids."""

    def __init__(self, kind: str, table: dict[str, list[str]], case_sensitive: set[str]) -> None:
        self.kind = kind
        self.lookup: dict[str, list[str]] = {}
        for key, phrases in table.items():
            for phrase in phrases:
                if not phrase.strip():
                    continue
                norm = normalise(phrase) if phrase not in case_sensitive else phrase
                ids = self.lookup.setdefault(norm, [])
                if key not in ids:
                    ids.append(key)
        insensitive = sorted(
            (p for p in self.lookup if p not in case_sensitive), key=len, reverse=True
        )
        sensitive = sorted((p for p in self.lookup if p in case_sensitive), key=len, reverse=True)
        edge_l, edge_r = r"(?<![A-Za-z0-9])", r"(?![A-Za-z0-9])"
        self._re = (
            re.compile(edge_l + "(?:" + "|".join(map(_pattern, insensitive)) + ")" + edge_r, re.I)
            if insensitive
            else None
        )
        self._re_cs = (
            re.compile(edge_l + "(?:" + "|".join(map(re.escape, sensitive)) + ")" + edge_r)
            if sensitive
            else None
        )

    def _keys(self, found: str) -> tuple[str, ...] | None:
        if found in self.lookup:
            return tuple(self.lookup[found])
        norm = normalise(found)
        for cand in (norm, norm[:-1], norm[:-2]):
            if cand in self.lookup:
                return tuple(self.lookup[cand])
        return None

    def find(self, text: str, start: int = 0, end: int | None = None) -> list[Match]:
        stop = len(text) if end is None else end
        out: list[Match] = []
        for rx in (self._re, self._re_cs):
            if rx is None:
                continue
            for m in rx.finditer(text, start, stop):
                keys = self._keys(m.group(0))
                if keys:
                    out.append(Match(m.start(), m.end(), self.kind, keys, m.group(0)))
        out.sort(key=lambda m: (m.start, -m.end))
        return out


@dataclass(frozen=True)
class Lexicon:
    concept: Matcher
    anatomy: Matcher
    action: Matcher
    region: Matcher
    modality: Matcher
    sequence: Matcher
    side: Matcher
    grade: Matcher
    movement: Matcher
    joint: Matcher
    negation: Matcher
    uncertainty: Matcher
    terminator: Matcher
    section: Matcher
    exam_cue: Matcher
    anaphora: re.Pattern[str]
    section_names: dict[str, str]
    rules: dict[str, Any]


@cache
def language_rules() -> dict[str, Any]:
    raw = resources.files("dxrx.ingest").joinpath("rules.yaml").read_text(encoding="utf-8")
    rules: dict[str, Any] = yaml.safe_load(raw)
    return rules


def _names(rec: Any) -> list[str]:
    return [rec.name, *rec.synonyms]


def _directional(block: dict[str, list[str]]) -> dict[str, list[str]]:
    return {direction: list(phrases) for direction, phrases in block.items()}


def build_lexicon(kb: KnowledgeBase) -> Lexicon:
    rules = language_rules()
    cs = set(rules.get("case_sensitive", []))
    anatomy: dict[str, list[str]] = {}
    for table in (kb.muscles, kb.nerves, kb.structures, kb.plexuses):
        for rid, rec in table.items():
            anatomy[rid] = _names(rec)
    for rid, root in kb.roots.items():
        anatomy[rid] = [rid, *root.synonyms]
    section_table = {name: list(words) for name, words in rules["sections"].items()}
    return Lexicon(
        concept=Matcher("concept", {c.id: _names(c) for c in kb.concepts.values()}, cs),
        anatomy=Matcher("anatomy", anatomy, cs),
        action=Matcher("action", {a.id: _names(a) for a in kb.actions.values()}, cs),
        region=Matcher("region", {r.id: _names(r) for r in kb.regions.values()}, cs),
        modality=Matcher("modality", rules["modalities"], cs),
        sequence=Matcher("sequence", rules["sequences"], cs),
        side=Matcher("side", rules["sides"], cs),
        grade=Matcher("grade", rules["grades"], cs),
        movement=Matcher("movement", rules["movements"], cs),
        joint=Matcher("joint", rules["joints"], cs),
        negation=Matcher("negation", {**_directional(rules["negation"])}, cs),
        uncertainty=Matcher("uncertainty", _directional(rules["uncertainty"]), cs),
        terminator=Matcher("terminator", {"term": rules["terminators"]}, cs),
        section=Matcher("section", section_table, cs),
        exam_cue=Matcher("exam", {"examination": rules["examination_cues"]}, cs),
        anaphora=re.compile("|".join(rules["anaphora"]), re.I),
        section_names={normalise(w): name for name, ws in section_table.items() for w in ws},
        rules=rules,
    )


_LEXICONS: dict[str, Lexicon] = {}


def lexicon_for(kb: KnowledgeBase) -> Lexicon:
    """Compiled once per KB version and process; compiling costs tens of milliseconds."""
    lex = _LEXICONS.get(kb.version)
    if lex is None:
        lex = _LEXICONS[kb.version] = build_lexicon(kb)
    return lex
