"""Sentences, clauses and sections of a case text, as character offsets.

Offsets (never copies) are passed on so that every finding can point back to
the exact words of the user's input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dxrx.ingest.lexicon import Lexicon, normalise
from dxrx.model import Section

_ABBREV = re.compile(
    r"(?:\b(?:e\.g|i\.e|fig|figs|vs|dr|approx|no|nos|ca|cf|al|resp|mr|mrs|ms|st|ref|refs)|\b[A-Z])\.$",
    re.I,
)
_SENT_END = re.compile(r"[.!?]+(?=\s+|$)|\n\s*\n|\n(?=\s*[-*•]|\s*[A-Z][A-Za-z /]{1,40}:)")
_CLAUSE_BREAK = re.compile(
    r";|,\s*(?=(?:but|whereas|while|although|though|however|yet)\b)|\s(?=(?:but|whereas)\s)", re.I
)
_HEADER = re.compile(r"^[ \t]*([A-Za-z][A-Za-z /&\-]{1,40}?)[ \t]*:[ \t]*", re.M)
_CITATION = re.compile(r"\[\d+(?:\s*[,\-–]\s*\d+)*\]")


@dataclass(frozen=True, slots=True)
class Sentence:
    start: int
    end: int
    section: str
    clauses: tuple[tuple[int, int], ...]


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


MAX_SENTENCE = 600
"""Longest stretch one finding's span may cover. Text without sentence breaks (a pasted
table, a run-on list) is cut into pieces this long, so that report size grows with the
text rather than with its square (every finding carries its sentence)."""


def _bounded(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Cut an over-long sentence at the last comma, else the last space, before the limit."""
    out: list[tuple[int, int]] = []
    while end - start > MAX_SENTENCE:
        window = text[start : start + MAX_SENTENCE]
        cut = max(window.rfind(","), window.rfind(";"))
        if cut < MAX_SENTENCE // 2:
            cut = window.rfind(" ")
        cut = start + (cut + 1 if cut > 0 else MAX_SENTENCE)
        s, e = _strip(text, start, cut)
        if e > s:
            out.append((s, e))
        start = cut
    s, e = _strip(text, start, end)
    if e > s:
        out.append((s, e))
    return out


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    return [piece for s, e in _sentences(text, start, end) for piece in _bounded(text, s, e)]


def _sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    stop = len(text) if end is None else end
    out: list[tuple[int, int]] = []
    cur = start
    for m in _SENT_END.finditer(text, start, stop):
        candidate = text[cur : m.end()].rstrip()
        if m.group(0).startswith(".") and _ABBREV.search(candidate):
            continue
        # a full stop inside a number ("11.3 mg/dL") is not a sentence end
        if m.group(0) == "." and m.end() < stop and text[m.end() : m.end() + 1].isdigit():
            continue
        s, e = _strip(text, cur, m.end())
        if e > s:
            out.append((s, e))
        cur = m.end()
    s, e = _strip(text, cur, stop)
    if e > s:
        out.append((s, e))
    return out


def split_clauses(text: str, start: int, end: int) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    cur = start
    for m in _CLAUSE_BREAK.finditer(text, start, end):
        s, e = _strip(text, cur, m.start())
        if e > s:
            out.append((s, e))
        cur = m.end()
    s, e = _strip(text, cur, end)
    if e > s:
        out.append((s, e))
    return tuple(out) or ((start, end),)


def _header_sections(text: str, lex: Lexicon) -> list[tuple[str, int, int]]:
    """Sections opened by explicit headers ("History:", "MRI:"); empty if none."""
    marks: list[tuple[int, int, str]] = []
    for m in _HEADER.finditer(text):
        name = lex.section_names.get(normalise(m.group(1)))
        if name is None:
            # "Knee radiographs:" or "Axial chest CT:" open imaging too
            if lex.modality.find(m.group(1)):
                name = "imaging"
            else:
                continue
        marks.append((m.start(), m.end(), name))
    out = []
    for i, (_s, body_start, name) in enumerate(marks):
        body_end = marks[i + 1][0] if i + 1 < len(marks) else len(text)
        out.append((name, body_start, body_end))
    return out


def _classify(text: str, s: int, e: int, lex: Lexicon, default: str) -> str:
    chunk = text[s:e]
    if _CITATION.search(chunk):
        return "other"  # discussion text citing literature, not facts of this case
    if default == "imaging":
        return "imaging"
    if lex.modality.find(chunk) or lex.sequence.find(chunk):
        return "imaging"
    if lex.exam_cue.find(chunk):
        return "examination"
    return default


def segment(text: str, lex: Lexicon) -> tuple[list[Sentence], list[Section]]:
    """Split into sentences, each assigned to a section, plus the section ranges."""
    headed = _header_sections(text, lex)
    blocks: list[tuple[str, int, int]]
    if headed:
        first = headed[0][1]
        blocks = [("history", 0, first)] if text[:first].strip() else []
        blocks += headed
    else:
        blocks = [("history", 0, len(text))]
    sentences: list[Sentence] = []
    for default, b_start, b_end in blocks:
        for s, e in split_sentences(text, b_start, b_end):
            hs, he = _strip(text, s, e)
            if default == "other":
                section = "other"
            elif default == "history":
                section = _classify(text, hs, he, lex, "history")
            else:
                section = _classify(text, hs, he, lex, default)
            sentences.append(Sentence(hs, he, section, split_clauses(text, hs, he)))
    sections: list[Section] = []
    for sent in sentences:
        if sections and sections[-1].name == sent.section:
            sections[-1] = Section(name=sections[-1].name, start=sections[-1].start, end=sent.end)
        else:
            sections.append(Section(name=sent.section, start=sent.start, end=sent.end))
    return sentences, sections
