"""The one function the CLI, web app, grader and benchmark all call."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from dxrx import DISCLAIMER, __version__
from dxrx.ingest import ingest_record, ingest_text
from dxrx.kb.loader import KnowledgeBase, load_kb
from dxrx.model import Case, Finding, Leading, Report, Span
from dxrx.plan import make_plan
from dxrx.reason import reason

DIFFERENTIAL_SIZE = 10


def _collect_refs(obj: Any, out: set[str]) -> None:
    if isinstance(obj, BaseModel):
        if isinstance(obj, Span | Finding):  # text and findings carry no references
            return
        for name, value in obj.__dict__.items():
            if name in ("refs", "stage_refs") and isinstance(value, list):
                out.update(value)
            elif isinstance(value, BaseModel | list | tuple):
                _collect_refs(value, out)
    elif isinstance(obj, list | tuple):
        for item in obj:
            if isinstance(item, BaseModel | list | tuple):  # strings hold no references
                _collect_refs(item, out)


def citations(kb: KnowledgeBase, parts: Iterable[Any]) -> dict[str, str]:
    """Full citations of every reference id used anywhere in ``parts``."""
    ids: set[str] = set()
    for part in parts:
        _collect_refs(part, ids)
    out = {}
    for rid in sorted(ids):
        ref = kb.references.get(rid)
        if ref is None:
            continue
        extra = [
            f"PMID {ref.pmid}" if ref.pmid else "",
            f"doi:{ref.doi}" if ref.doi else "",
            ref.pages or "",
        ]
        out[rid] = " ".join([ref.citation, *[e for e in extra if e]])
    return out


def analyze_case(case: Case, kb: KnowledgeBase | None = None) -> Report:
    kb = kb or load_kb()
    assessment = reason(case, kb)
    plan = make_plan(assessment, kb)
    top = assessment.differential[0]
    differential = assessment.differential[:DIFFERENTIAL_SIZE]
    parts = [assessment.imaging, assessment.localisation, differential, assessment.red_flags, plan]
    return Report(
        case=case,
        imaging=assessment.imaging,
        localisation=assessment.localisation,
        differential=differential,
        leading=Leading(
            id=top.id,
            name=top.name,
            score=top.score,
            stage=assessment.imaging.stage,
            icd10=top.icd10,
            snomed=list(kb.conditions[top.id].snomed),
        ),
        red_flags=assessment.red_flags,
        red_flags_screened_negative=assessment.red_flags_screened_negative,
        plan=plan,
        references=citations(kb, parts),
        disclaimer=DISCLAIMER,
        kb_version=kb.version,
        dxrx_version=__version__,
    )


def analyze_text(text: str, kb: KnowledgeBase | None = None) -> Report:
    kb = kb or load_kb()
    return analyze_case(ingest_text(text, kb), kb)


def analyze_record(record: dict[str, Any], kb: KnowledgeBase | None = None) -> Report:
    kb = kb or load_kb()
    return analyze_case(ingest_record(record, kb), kb)
