"""Match a published diagnosis label to a differential entry.

Labels carry qualifiers (acute, subacute, left, "of the knee") that do not
change the diagnosis; these are removed before comparing against a
condition's name and aliases.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_QUALIFIERS = frozenset(
    "acute subacute sub-acute chronic early late left right bilateral unilateral sided "
    "mild moderate severe grade partial complete recurrent primary idiopathic the a an "
    "symptomatic isolated benign".split()
)
_SITE_TAIL = re.compile(r"\b(?:of|in|at|involving|affecting) the (?:left |right )?\w+(?: \w+)?$")
_TOKEN = re.compile(r"[a-z0-9]+")
_SPELLING = {
    "oedema": "edema",
    "haematoma": "hematoma",
    "tumour": "tumor",
    "paraesthetica": "paresthetica",
    "haemophilic": "hemophilic",
    "fibular": "peroneal",
    "orthopaedic": "orthopedic",
    "anaemia": "anemia",
    "haemorrhage": "hemorrhage",
    "oesophageal": "esophageal",
    "tumours": "tumors",
    "ischaemic": "ischemic",
    "osteitis": "osteitis",
}


_GENERIC_HEADS = frozenset(
    "tumor tumors fracture fractures tear tears rupture lesion lesions syndrome disease injury "
    "cyst cysts mass masses neuropathy palsy infection collection".split()
)


def _singular(word: str) -> str:
    """'fractures' -> 'fracture', 'tears' -> 'tear'; leaves -ss, -us and -is words alone."""
    if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _words(label: str) -> list[str]:
    return [_singular(_SPELLING.get(t, t)) for t in _TOKEN.findall(label.lower().replace("'s", ""))]


def label_key(label: str) -> str:
    """A label's spelling-normalised words, qualifiers kept: for telling labels apart."""
    return " ".join(_words(label))


def tokens(label: str) -> list[str]:
    return [t for t in _words(label) if t not in _QUALIFIERS]


def _contains(hay: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return any(hay[i : i + n] == needle for i in range(len(hay) - n + 1))


_POLARITY = {"benign": "benign", "malignant": "malignant", "malignancy": "malignant"}


def _polarity(label: str) -> set[str]:
    return {_POLARITY[w] for w in _words(label) if w in _POLARITY}


def label_matches(truth: str, names: Iterable[str]) -> bool:
    """True when a name equals the truth label, or is a multi-word phrase inside it.

    "Benign" is a qualifier ("benign schwannoma" is a schwannoma), but a condition
    named benign never matches a truth called malignant, nor the reverse, even
    through an alias that leaves the word out.
    """
    names = list(names)
    truth_pol = _polarity(truth)
    if names and truth_pol and _polarity(names[0]) and not truth_pol & _polarity(names[0]):
        return False
    truth_toks = tokens(truth)
    head_toks = tokens(
        re.split(r"\b(?:due to|from|secondary to|caused by|with|after)\b", truth.lower())[0]
    )
    head_toks = tokens(_SITE_TAIL.sub("", " ".join(head_toks))) or head_toks
    for name in names:
        cand = tokens(name)
        if not cand:
            continue
        if cand in (truth_toks, head_toks):
            return True
        if len(cand) >= 2 and (
            _contains(truth_toks, cand) or (len(head_toks) >= 2 and _contains(cand, head_toks))
        ):
            return True
        # "Ulnar nerve schwannoma" names a schwannoma: a specific head noun is enough
        if (
            len(cand) == 1
            and head_toks
            and cand[0] == head_toks[-1]
            and len(cand[0]) >= 6
            and cand[0] not in _GENERIC_HEADS
        ):
            return True
    return False


def rank_of(truth: str, entries: Iterable[tuple[str, list[str]]]) -> int | None:
    """1-based rank of the first entry (name, aliases) matching the truth label."""
    for i, (name, aliases) in enumerate(entries, 1):
        if label_matches(truth, [name, *aliases]):
            return i
    return None
