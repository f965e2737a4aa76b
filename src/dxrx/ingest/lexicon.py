"""Phrase matchers compiled from the KB vocabulary and the ingest language rules.

One regular expression per kind of term (concept, anatomy, region, ...), with
alternatives sorted longest first, so that "gluteus medius tendon" wins over
"gluteus medius" at the same position. Hyphens and spaces are interchangeable
and a trailing plural is tolerated, because case reports spell terms freely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
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


_TOKEN = re.compile(r"[^\W_]+|[^\s\w-]")


def _tokens(phrase: str) -> tuple[str, ...]:
    return tuple(_TOKEN.findall(phrase))


@lru_cache(maxsize=32)
def _tokenise(
    text: str, start: int, stop: int
) -> tuple[list[tuple[int, int]], list[str], list[str]]:
    """Token spans, raw and lower-cased tokens; shared by every matcher scanning a text."""
    spans = [(m.start(), m.end()) for m in _TOKEN.finditer(text, start, stop)]
    raw = [text[s:e] for s, e in spans]
    return spans, raw, [r.lower() for r in raw]


class Matcher:
    """Finds every phrase of one kind in a text; a phrase may stand for several ids.

    Phrases are looked up as token n-grams in a dictionary, leftmost-longest,
    which is far faster than one huge regular-expression alternation. Hyphens
    and spaces are interchangeable and a trailing plural ("s"/"es") is tolerated.
    """

    def __init__(self, kind: str, table: dict[str, list[str]], case_sensitive: set[str]) -> None:
        self.kind = kind
        self.lookup: dict[tuple[str, ...], list[str]] = {}
        self.exact: dict[tuple[str, ...], list[str]] = {}
        for key, phrases in table.items():
            for phrase in phrases:
                if not phrase.strip():
                    continue
                if phrase in case_sensitive:
                    target, toks = self.exact, _tokens(phrase)
                else:
                    target, toks = self.lookup, _tokens(phrase.lower())
                if not toks:
                    continue
                ids = target.setdefault(toks, [])
                if key not in ids:
                    ids.append(key)
        lengths = [len(k) for k in (*self.lookup, *self.exact)]
        self.longest = max(lengths, default=0)
        # longest phrase starting with each token: most tokens start no phrase at all
        self.first: dict[str, int] = {}
        for k in (*self.lookup, *self.exact):
            self.first[k[0]] = max(self.first.get(k[0], 0), len(k))

    def _at(self, low: list[str], raw: list[str], i: int) -> tuple[int, tuple[str, ...]] | None:
        limit = max(self.first.get(low[i], 0), self.first.get(raw[i], 0))
        if not limit and low[i][-1:] == "s":
            limit = 1  # a plural single word ("muscles"): try its stems
        for n in range(min(limit, len(low) - i), 0, -1):
            key = tuple(low[i : i + n])
            ids = self.lookup.get(key)
            if ids is None and key[-1][-1:] == "s":
                last = key[-1]
                for stem in (last[:-1], last[:-2] if last.endswith("es") else None):
                    if stem:
                        ids = self.lookup.get((*key[:-1], stem))
                        if ids is not None:
                            break
            if ids is None and self.exact:
                ids = self.exact.get(tuple(raw[i : i + n]))
            if ids is not None:
                return n, tuple(ids)
        return None

    def find(self, text: str, start: int = 0, end: int | None = None) -> list[Match]:
        stop = len(text) if end is None else end
        spans, raw, low = _tokenise(text, start, stop)
        if not spans or not self.longest:
            return []
        first = self.first
        out: list[Match] = []
        i = 0
        while i < len(spans):
            if low[i] not in first and raw[i] not in first and low[i][-1:] != "s":
                i += 1
                continue
            hit = self._at(low, raw, i)
            if hit is None:
                i += 1
                continue
            n, keys = hit
            s, e = spans[i][0], spans[i + n - 1][1]
            out.append(Match(s, e, self.kind, keys, text[s:e]))
            i += n
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
    exam_cue: Matcher
    anaphora: re.Pattern[str]
    operation: re.Pattern[str]
    remote_time: re.Pattern[str]
    section_names: dict[str, str]


@cache
def language_rules() -> dict[str, Any]:
    raw = resources.files("dxrx.ingest").joinpath("rules.yaml").read_text(encoding="utf-8")
    rules: dict[str, Any] = yaml.safe_load(raw)
    return rules


def _names(rec: Any) -> list[str]:
    return [rec.name, *rec.synonyms]


def _directional(block: dict[str, list[str]]) -> dict[str, list[str]]:
    return {direction: list(phrases) for direction, phrases in block.items()}


def _operation(rule: dict[str, list[str]]) -> re.Pattern[str]:
    """cue, up to six words, procedure: the shape of "weeks after ACL reconstruction"."""
    cues = "|".join(re.escape(c) for c in sorted(rule["cues"], key=len, reverse=True))
    procs = "|".join(re.escape(p) for p in sorted(rule["procedures"], key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{cues})(?:[\s-]+[\w'/-]+){{0,6}}?[\s-]+(?:{procs})s?\b", re.I)


def build_lexicon(kb: KnowledgeBase) -> Lexicon:
    rules = language_rules()
    cs = set(rules.get("case_sensitive", []))
    anatomy: dict[str, list[str]] = {}
    for table in (kb.muscles, kb.nerves, kb.structures, kb.plexuses):
        for rid, rec in table.items():
            anatomy[rid] = _names(rec)
    # a bare root id is a phrase unless it is also an MRI sequence name ("T1", "T2"): those
    # roots are named only by their synonyms ("T1 root", "T1 nerve root")
    sequence_words = {normalise(w) for words in rules["sequences"].values() for w in words}
    for rid, root in kb.roots.items():
        bare = [] if normalise(rid) in sequence_words else [rid]
        anatomy[rid] = [*bare, *root.synonyms]
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
        exam_cue=Matcher("exam", {"examination": rules["examination_cues"]}, cs),
        anaphora=re.compile("|".join(rules["anaphora"]), re.I),
        operation=_operation(rules["operation"]),
        remote_time=re.compile("|".join(rules["operation"]["remote"]), re.I),
        section_names={normalise(w): name for name, ws in section_table.items() for w in ws},
    )


_LEXICONS: dict[str, Lexicon] = {}


def lexicon_for(kb: KnowledgeBase) -> Lexicon:
    """Compiled once per KB version and process; compiling costs tens of milliseconds."""
    lex = _LEXICONS.get(kb.version)
    if lex is None:
        lex = _LEXICONS[kb.version] = build_lexicon(kb)
    return lex
