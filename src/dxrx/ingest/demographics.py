"""Age, sex and symptom duration from free text."""

from __future__ import annotations

import re

_NUM_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "eighteen": 18,
    "twenty": 20,
    "several": 3,
    "few": 3,
    "a few": 3,
}
_NUM = (
    r"(\d+(?:\.\d+)?|a few|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven"
    r"|twelve|fifteen|eighteen|twenty|several|few)"
)
_UNIT_DAYS = {"day": 1.0, "week": 7.0, "month": 30.4, "year": 365.25, "hour": 1 / 24}

_AGE_PATTERNS = [
    re.compile(r"\b(\d{1,3})[\s\-]*(?:year|yr)s?[\s\-]*old\b", re.I),
    re.compile(r"\baged\s+(\d{1,3})\b", re.I),
    re.compile(r"\bage[:\s]+(\d{1,3})\b", re.I),
    re.compile(r"\b(\d{1,3})\s*(?:y/?o|yo|yrs?)\b", re.I),
    re.compile(
        r"\b(\d{1,3})\s*-?\s*(?:year|yr)s?\b(?=[\s,]+(?:man|woman|male|female|boy|girl|patient|lady|gentleman))",
        re.I,
    ),
    re.compile(
        r"\b(?:man|woman|male|female|boy|girl|patient|lady|gentleman),?\s+(\d{1,3})\b", re.I
    ),
    re.compile(r"\bin (?:his|her) (?:early |mid |late )?(\d)0s\b", re.I),
]
_MONTH_AGE = re.compile(r"\b(\d{1,2})[\s\-]*(?:month|week)s?[\s\-]*old\b", re.I)
_FEMALE = re.compile(
    r"\b(?:female|woman|women|girl|lady|she|her|mrs|ms|mother|pregnant|postpartum|postmenopausal)\b",
    re.I,
)
_MALE = re.compile(r"\b(?:male|man|men|boy|gentleman|he|his|him|mr|father)\b", re.I)
_DURATION = [
    re.compile(_NUM + r"[\s\-]*(day|week|month|year|hour)s?[\s\-]*(?:history|duration)", re.I),
    re.compile(
        r"\b(?:for|over|past|last|since|of)\s+(?:the\s+)?(?:past\s+|last\s+)?"
        + _NUM
        + r"[\s\-]*(day|week|month|year|hour)s?\b",
        re.I,
    ),
    re.compile(
        r"\b" + _NUM + r"[\s\-]*(day|week|month|year|hour)s?\s+(?:of|ago|after|before)\b", re.I
    ),
]


def _number(token: str) -> float | None:
    t = token.lower()
    if t in _NUM_WORDS:
        return float(_NUM_WORDS[t])
    try:
        return float(t)
    except ValueError:
        return None


def find_age(text: str) -> tuple[int | None, tuple[int, int] | None]:
    m_month = _MONTH_AGE.search(text)
    for pat in _AGE_PATTERNS:
        m = pat.search(text)
        if m:
            value = int(m.group(1))
            if pat.pattern.startswith(r"\bin (?:his|her)"):
                value = value * 10 + 5
            if 0 <= value <= 120:
                return value, (m.start(), m.end())
    if m_month:
        return 0, (m_month.start(), m_month.end())
    return None, None


def find_sex(text: str) -> tuple[str | None, tuple[int, int] | None]:
    f = _FEMALE.search(text)
    m = _MALE.search(text)
    if f and (not m or f.start() <= m.start()):
        return "female", (f.start(), f.end())
    if m:
        return "male", (m.start(), m.end())
    return None, None


def find_duration(text: str) -> tuple[float | None, tuple[int, int] | None]:
    """Duration of symptoms in days from the first duration phrase."""
    best: tuple[int, float, tuple[int, int]] | None = None
    for pat in _DURATION:
        for m in pat.finditer(text):
            n = _number(m.group(1))
            if n is None:
                continue
            days = n * _UNIT_DAYS[m.group(2).lower()]
            if best is None or m.start() < best[0]:
                best = (m.start(), days, (m.start(), m.end()))
            break
    if best is None:
        return None, None
    return best[1], best[2]
