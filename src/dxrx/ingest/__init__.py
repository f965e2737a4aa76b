"""ingest: case text or case record -> :class:`dxrx.model.Case`.

Pure functions of their input and the KB vocabulary; nothing here knows
about diagnoses.
"""

from __future__ import annotations

from typing import Any

from dxrx.ingest.demographics import find_age, find_duration, find_sex
from dxrx.ingest.extract import Extractor, case_side
from dxrx.ingest.lexicon import lexicon_for
from dxrx.ingest.source import load_case_input
from dxrx.ingest.text import segment
from dxrx.kb.loader import KnowledgeBase
from dxrx.model import Case

__all__ = ["case_text", "ingest_record", "ingest_text", "load_case", "load_case_input"]


def ingest_text(text: str, kb: KnowledgeBase, *, case_id: str | None = None) -> Case:
    lex = lexicon_for(kb)
    sentences, sections = segment(text, lex)
    extractor = Extractor(text, kb, lex)
    findings = extractor.run(sentences)
    clinical = " ".join(text[s.start : s.end] for s in sentences if s.section != "other")
    age, _ = find_age(clinical)
    sex, _ = find_sex(clinical)
    history = " ".join(text[s.start : s.end] for s in sentences if s.section == "history")
    duration, dspan = find_duration(history or clinical)
    onset = None
    positive = {f.concept for f in findings if not f.negated}
    if "sudden-onset" in positive or "trauma" in positive:
        onset = "sudden"
    elif "insidious-onset" in positive:
        onset = "insidious"
    src = history or clinical
    return Case(
        id=case_id,
        age=age,
        sex=sex,
        side=case_side(findings),
        duration_days=duration,
        duration_text=src[dspan[0] : dspan[1]] if dspan else None,
        onset=onset,
        modalities=extractor.modalities_seen,
        text=text,
        sections=sections,
        findings=findings,
    )


def case_text(record: dict[str, Any]) -> str:
    """The text dxrx analyses for a case record: its history and imaging, headed."""
    parts = [f"History: {record['history'].strip()}"]
    if (record.get("imaging") or "").strip():
        parts.append(f"Imaging: {record['imaging'].strip()}")
    return "\n\n".join(parts)


def ingest_record(record: dict[str, Any], kb: KnowledgeBase) -> Case:
    """A case in the JSON case format; structured fields win over what the text implies."""
    case = ingest_text(case_text(record), kb, case_id=record.get("id"))
    updates: dict[str, Any] = {"final_diagnosis": record.get("final_diagnosis")}
    if isinstance(record.get("age"), int):
        updates["age"] = record["age"]
    if record.get("sex") in ("female", "male"):
        updates["sex"] = record["sex"]
    mods = [m for m in record.get("modalities") or [] if isinstance(m, str)]
    if mods:
        updates["modalities"] = list(dict.fromkeys([*case.modalities, *mods]))
    return case.model_copy(update=updates)


def load_case(path: str, kb: KnowledgeBase) -> Case:
    """Read and ingest a case (text, JSON case or FHIR Bundle) from a path or ``-``.

    Raises InputError."""
    name, payload = load_case_input(path)
    if isinstance(payload, dict):
        if payload.get("resourceType") == "Bundle":
            from dxrx.fhir import ingest_bundle  # dxrx.fhir imports this package

            return ingest_bundle(payload, kb, name=name)
        return ingest_record(payload, kb)
    return ingest_text(payload, kb, case_id=None)
