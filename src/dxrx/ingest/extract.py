"""Turn the sentences of a case into typed findings with their source spans.

Per clause: find the finding words (concepts), then the attributes around them
(structures, regions, actions, sequences, side, grade) and the ConText flags.
Nothing here knows about diagnoses; it only restates what the text says.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable

from dxrx.ingest.context import scope_flags
from dxrx.ingest.lexicon import Lexicon, Match, Matcher
from dxrx.ingest.text import Sentence
from dxrx.kb.loader import GENERIC_TISSUES, KnowledgeBase
from dxrx.model import Finding, Span

_POWER = re.compile(r"\b(?:mrc\s*)?(?:grade\s*)?[0-4][+\-]?\s*/\s*5\b", re.I)
# "lost 12 kg", "a loss of 8 kg": weight loss stated as an amount
_WEIGHT_LOSS = re.compile(
    r"\b(?:lost|losing|loss of)\s+(?:about |around |approximately |nearly |over )?"
    r"\d+(?:[.,]\d+)?\s*(?:kg|kilos?|kilograms?|lbs?|pounds|stone)\b",
    re.I,
)
_FLUID = {"STIR", "T2", "FS", "PD"}
_PREP = re.compile(r"\s+(?:on|in|at|with|using)\b", re.I)
_PREP_BEFORE = re.compile(r"\b(?:on|in|at|with|using)\s+$", re.I)


def _drop_overlapped(matches: list[Match], masks: Iterable[Match]) -> list[Match]:
    """Drop matches lying inside a mask ("fluid" in "fluid-sensitive"); longer ones survive."""
    mask_list = list(masks)
    return [
        m
        for m in matches
        if not any(m.overlaps(k) and (m.end - m.start) <= (k.end - k.start) for k in mask_list)
    ]


def _ellipsis(text: str, found: list[Match], lex: Lexicon, end: int) -> list[Match]:
    """Expand "gluteus medius and minimus" to both muscles."""
    extra: list[Match] = []
    for m in found:
        words = m.text.split()
        if len(words) < 2:
            continue
        stem = " ".join(words[:-1])
        rest = re.compile(r"(?:\s*,\s*|\s*(?:,\s*)?(?:and|or|&|/)\s*)([A-Za-z]+)")
        pos = m.end
        while True:
            r = rest.match(text, pos, end)
            if not r:
                break
            cand = lex.anatomy.find(f"{stem} {r.group(1)}")
            if cand and cand[0].end == len(stem) + 1 + len(r.group(1)):
                extra.append(Match(r.start(1), r.end(1), "anatomy", cand[0].keys, r.group(1)))
                pos = r.end()
            else:
                break
    known = {(m.start, m.end) for m in found}
    return found + [e for e in extra if (e.start, e.end) not in known]


def _actions(text: str, s: int, e: int, lex: Lexicon, kb: KnowledgeBase) -> list[str]:
    out = [a for m in lex.action.find(text, s, e) for a in m.keys]
    moves = lex.movement.find(text, s, e)
    if moves:
        joints = [j for m in lex.joint.find(text, s, e) for j in m.keys]
        for mv in moves:
            for joint in joints:
                cand = f"{joint}-{mv.key}"
                if cand in kb.actions and cand not in out:
                    out.append(cand)
    return out


def _sequences_for(
    text: str, concept: Match, seqs: list[Match], concepts: list[Match]
) -> list[str]:
    """Sequences that qualify one signal word: "T2 hyperintense" or "hyperintense on T2"."""
    inside = [k for s in seqs if concept.start <= s.start and s.end <= concept.end for k in s.keys]
    if inside:  # "STIR hyperintensity", "increased T2 signal"
        return list(dict.fromkeys(inside))
    following = [c.start for c in concepts if c.start > concept.start]
    limit = min(following) if following else 10**9
    after = [s for s in seqs if concept.end <= s.start < limit]
    if after and _PREP.match(text, concept.end):
        return list(dict.fromkeys(k for s in after for k in s.keys))
    before = [
        s
        for s in seqs
        if s.end <= concept.start
        and concept.start - s.end <= 25
        and not _PREP_BEFORE.search(text, max(0, s.start - 6), s.start)
    ]
    if before:
        nearest = max(before, key=lambda s: s.end)
        if not [c for c in concepts if nearest.end <= c.start < concept.start]:
            return list(nearest.keys)
    if after:
        return list(dict.fromkeys(k for s in after for k in s.keys))
    # otherwise only an unambiguous sentence-wide sequence qualifies it
    every = list(dict.fromkeys(k for s in seqs for k in s.keys))
    return every if len(every) == 1 else []


def _label(kb: KnowledgeBase, f: Finding) -> str:
    parts = [kb.concepts[f.concept].name if f.concept in kb.concepts else f.concept]
    if f.grade:
        parts.insert(0, f.grade)
    if f.actions:
        parts.append("of " + ", ".join(kb.name_of(a) for a in f.actions))
    where = [kb.name_of(s) for s in f.structures] + [kb.name_of(r) for r in f.regions]
    if where:
        side = f"{f.side} " if f.side and f.side != "bilateral" else ""
        parts.append("in " + side + ", ".join(where))
    if f.side == "bilateral":
        parts.append("(bilateral)")
    if f.sequences:
        parts.append("on " + "/".join(f.sequences))
    if f.modality:
        parts.append(f"[{f.modality}]")
    text = " ".join(parts)
    if f.negated:
        text = "no " + text
    if f.uncertain:
        text = "possible " + text
    return text


class _Scan:
    """All matches of one matcher over the whole text, sliced per clause.

    Scanning once per text instead of once per clause keeps ingest in the
    low milliseconds: the big alternations are the expensive part.
    """

    def __init__(self, matcher: Matcher, text: str) -> None:
        self.matches = matcher.find(text)
        self.starts = [m.start for m in self.matches]

    def within(self, start: int, end: int) -> list[Match]:
        i = bisect_left(self.starts, start)
        out = []
        while i < len(self.matches) and self.matches[i].start < end:
            if self.matches[i].end <= end:
                out.append(self.matches[i])
            i += 1
        return out


class Extractor:
    """Stateful over one case: carries modality and anaphora context across sentences."""

    def __init__(self, text: str, kb: KnowledgeBase, lex: Lexicon) -> None:
        self.text = text
        self.kb = kb
        self.lex = lex
        self.modality: str | None = None
        self.prev_structures: list[str] = []
        self.modalities_seen: list[str] = []
        self._scans: dict[str, _Scan] = {}

    def _find(self, kind: str, start: int, end: int) -> list[Match]:
        scan = self._scans.get(kind)
        if scan is None:
            scan = self._scans[kind] = _Scan(getattr(self.lex, kind), self.text)
            if kind == "anatomy":
                self._disambiguate(scan)
        return scan.within(start, end)

    def _names_muscle_deficit(self, c: Match) -> bool:
        return any(
            self.kb.concept_is_a(k, "muscle-wasting") or self.kb.concept_is_a(k, "weakness")
            for k in c.keys
        )

    def _disambiguate(self, scan: _Scan) -> None:
        """A phrase naming structures in different limb segments ("anterior compartment":
        thigh, leg, arm or forearm) means the one in the segment the rest of the case names."""
        if not any(len(m.keys) > 1 for m in scan.matches):
            return
        kb = self.kb
        named: Counter[str] = Counter()
        for m in self._find("region", 0, len(self.text)):
            named[kb.segment_of_region(m.key)] += 1
        for m in scan.matches:
            if len(m.keys) == 1:
                seg = kb.segment_of(m.key)
                if seg is not None:
                    named[seg] += 1
        for i, m in enumerate(scan.matches):
            if len(m.keys) > 1:
                best = max(m.keys, key=lambda k: named.get(kb.segment_of(k) or "", 0))
                if best != m.keys[0]:
                    keys = (best, *[k for k in m.keys if k != best])
                    scan.matches[i] = Match(m.start, m.end, m.kind, keys, m.text)

    def run(self, sentences: list[Sentence]) -> list[Finding]:
        out: list[Finding] = []
        last_section = ""
        prev_end = 0
        for sent in sentences:
            if sent.section == "other":
                continue
            if sent.section != last_section and sent.section != "imaging":
                self.modality = None
            last_section = sent.section
            # a header just before the sentence ("MRI: ...") names its modality too; look
            # back only to the end of the previous sentence, never into its findings
            mods = self._find("modality", sent.start, sent.end) or self._find(
                "modality", prev_end, sent.start
            )
            prev_end = sent.end
            if mods and sent.section == "imaging":
                self.modality = mods[0].key
                for m in mods:
                    if m.key not in self.modalities_seen:
                        self.modalities_seen.append(m.key)
            for clause in sent.clauses:
                out.extend(self._clause(sent, clause))
        return out

    def _clause(self, sent: Sentence, clause: tuple[int, int]) -> list[Finding]:
        text, lex, kb = self.text, self.lex, self.kb
        s, e = clause
        seqs = self._find("sequence", s, e)
        mods = self._find("modality", s, e)
        anatomy = self._find("anatomy", s, e)
        concepts = _drop_overlapped(self._find("concept", s, e), [*seqs, *mods])
        # "foot drop", "absent knee reflex": a concept phrase wins over anatomy inside it,
        # except the muscle a wasting or weakness phrase names ("infraspinatus wasting")
        anatomy = [
            a
            for a in anatomy
            if not any(
                c.start <= a.start
                and a.end <= c.end
                and c.end - c.start > a.end - a.start
                and not (a.key in kb.muscles and self._names_muscle_deficit(c))
                for c in concepts
            )
        ]
        anatomy = _ellipsis(text, anatomy, lex, e)
        regions = _drop_overlapped(self._find("region", s, e), anatomy)
        for m in _POWER.finditer(text, s, e):
            concepts.append(Match(m.start(), m.end(), "concept", ("weakness",), m.group(0)))
        for m in _WEIGHT_LOSS.finditer(text, s, e):
            concepts.append(Match(m.start(), m.end(), "concept", ("weight-loss",), m.group(0)))
        if sent.section == "history" and not lex.remote_time.search(text, s, e):
            for m in lex.operation.finditer(text, s, e):
                concepts = [
                    c
                    for c in concepts
                    if not (
                        m.start() <= c.start < m.end()
                        and any(kb.concept_is_a(k, "surgery") for k in c.keys)
                    )
                ]
                concepts.append(
                    Match(m.start(), m.end(), "concept", ("post-operative",), m.group(0))
                )
        if not concepts:
            named = [k for a in anatomy for k in a.keys[:1] if k not in GENERIC_TISSUES]
            if named:
                self.prev_structures = named
            return []
        structures = list(dict.fromkeys(a.key for a in anatomy))
        # "the same three muscles": a bare tissue word does not stop the anaphora resolving
        specific = [k for k in structures if k not in GENERIC_TISSUES]
        if not specific and lex.anaphora.search(text, s, e) and self.prev_structures:
            structures = list(self.prev_structures)
        elif specific:
            self.prev_structures = specific
        region_ids = list(dict.fromkeys(k for r in regions for k in r.keys[:1]))
        actions = _actions(text, s, e, lex, kb)
        sides = self._find("side", s, e) or self._find("side", sent.start, sent.end)
        side = sides[0].key if sides else None
        grades = self._find("grade", s, e)
        flags = scope_flags(text, clause, concepts, lex)
        seq_sentence = seqs or self._find("sequence", sent.start, sent.end)
        has_normal = any(c.key == "normal" for c in concepts)
        modality = None
        if sent.section == "imaging":
            modality = self.modality or ("MR" if seq_sentence else None)
        clause_span = Span(start=s, end=e, text=text[s:e], section=sent.section)
        out: list[Finding] = []
        for c in concepts:
            concept = kb.concepts.get(c.key)
            kind = concept.kind if concept else "sign"
            negated, uncertain = flags.get(c.start, (False, False))
            own = structures
            if has_normal and len(concepts) > 1:
                own = [
                    a.key
                    for a in anatomy
                    if min(concepts, key=lambda k: abs(k.start - a.start)) is c
                ]
            grade = None
            near = [g for g in grades if g.end <= c.start and c.start - g.end <= 30]
            if near:
                grade = near[-1].key
            is_imaging = kind == "imaging" or (modality is not None and kind != "history")
            seq_ids = (
                _sequences_for(text, c, seq_sentence, concepts)
                if is_imaging and modality == "MR"
                else []
            )
            f = Finding(
                concept=c.key,
                kind=kind,
                label="",
                structures=own,
                actions=actions,
                regions=region_ids,
                sequences=seq_ids,
                modality=modality if is_imaging else None,
                side=side,
                grade=grade,
                negated=negated,
                uncertain=uncertain,
                span=clause_span,
                cue=Span(start=c.start, end=c.end, text=c.text, section=sent.section),
            )
            out.append(f.model_copy(update={"label": _label(kb, f)}))
        return out


def case_side(findings: list[Finding]) -> str | None:
    sides = Counter(f.side for f in findings if f.side and not f.negated)
    if not sides:
        return None
    if sides.get("bilateral") or (sides.get("left") and sides.get("right")):
        if sides.get("left", 0) and sides.get("right", 0):
            top = sides.most_common(1)[0][0]
            return top if sides[top] >= 2 * min(sides["left"], sides["right"]) else "bilateral"
        return "bilateral"
    return sides.most_common(1)[0][0]


def fluid_sensitive(seqs: Iterable[str]) -> bool:
    return any(s in _FLUID for s in seqs)
