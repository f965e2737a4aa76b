"""Observations: the stated age and each finding of the history, examination and imaging.

Findings are exported as the case states them, pertinent negatives
included: in nerve and muscle localisation a spared muscle or an absent sign
narrows the lesion site as much as a positive one. A negated finding has
``valueBoolean`` false and interpretation NEG, an uncertain one no value
and interpretation IND ("possible"), so no reader can take either for a
positive finding. History findings (symptoms, course, risk factors) are
exported too, without a category (FHIR has none for them), because red flags
and the differential rest on them as much as on signs and images.
"""

from __future__ import annotations

from typing import Any

from dxrx.fhir.codes import (
    AGE_LOINC,
    INTERPRETATION,
    LOINC,
    OBSERVATION_CATEGORY,
    UCUM,
    concept,
)
from dxrx.kb.loader import KnowledgeBase
from dxrx.model import Finding, Report

Resource = dict[str, Any]

_INTERPRETATION = {
    "POS": "Positive",
    "NEG": "Negative",
    "IND": "Indeterminate",
}


def key_findings(report: Report) -> list[tuple[str | None, Finding]]:
    """(category, finding) for the history, examination and imaging findings, in that order.

    Imaging findings come from the imaging read-out; the rest from the case.
    """
    out: list[tuple[str | None, Finding]] = []
    seen: set[tuple[str, str, int, bool]] = set()
    by_section = {"history": None, "examination": "exam"}
    stated = [
        (by_section[f.span.section], f)
        for f in report.case.findings
        if f.span.section in by_section
    ]
    imaging: list[tuple[str | None, Finding]] = [("imaging", f) for f in report.imaging.findings]
    for category, f in [*stated, *imaging]:
        key = (f.concept, f.label, f.span.start, f.negated)
        if key not in seen:
            seen.add(key)
            out.append((category, f))
    return out


def _body_site(f: Finding, kb: KnowledgeBase) -> str:
    names = [kb.name_of(s) for s in [*f.structures, *f.regions]]
    site = ", ".join(dict.fromkeys(n for n in names if n))
    if site and f.side:
        return f"{f.side} {site}"
    return site


def _interpretation(code: str) -> list[dict[str, Any]]:
    return [concept(INTERPRETATION, code, _INTERPRETATION[code])]


def finding_observation(
    category: str | None, f: Finding, kb: KnowledgeBase, subject: dict[str, str], meta: Resource
) -> Resource:
    """One finding, with the words of the case it was read from as its note."""
    obs: Resource = {
        "resourceType": "Observation",
        "meta": meta,
        "status": "final",
        "code": {"text": f.label},
        "subject": subject,
        "note": [{"text": f.span.text}],
    }
    if category:
        obs["category"] = [concept(OBSERVATION_CATEGORY, category, category.capitalize())]
    if f.uncertain:
        obs["interpretation"] = _interpretation("IND")
    else:
        obs["valueBoolean"] = not f.negated
        obs["interpretation"] = _interpretation("NEG" if f.negated else "POS")
    site = _body_site(f, kb)
    if site:
        obs["bodySite"] = {"text": site}
    method = " ".join([*([f.modality] if f.modality else []), *f.sequences])
    if method:
        obs["method"] = {"text": method}
    return obs


def age_observation(age: int, subject: dict[str, str], meta: Resource) -> Resource:
    """The age the case states; an Observation rather than an invented birth date."""
    return {
        "resourceType": "Observation",
        "meta": meta,
        "status": "final",
        "code": concept(LOINC, AGE_LOINC, "Age", "Age"),
        "subject": subject,
        "valueQuantity": {"value": age, "unit": "years", "system": UCUM, "code": "a"},
    }
