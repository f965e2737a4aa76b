"""grade: judge any work-up of a case against the case's ground truth.

The grader is deterministic and explains every deduction: the diagnosis is
matched through the KB's names and aliases, findings the work-up states are
checked against the findings dxrx reads from the case itself (same ingest,
same vocabulary), key case findings the work-up never mentions are listed, and
the plan is checked for FITT-VP completeness, targeting and safety.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError

from dxrx.errors import InputError
from dxrx.grade.claims import read_workup
from dxrx.grade.plan_check import PlanGrade, StageFitt, Unsafe, grade_text_plan
from dxrx.ingest import ingest_record, ingest_text
from dxrx.ingest.source import check_english, parse_json_case, read_text
from dxrx.kb.loader import GENERIC_TISSUES, KnowledgeBase
from dxrx.labels import label_matches
from dxrx.model import Case, Finding, Report
from dxrx.pipeline import analyze_case
from dxrx.plan.rubric import assess_plan, fitt_missing

__all__ = ["GradeResult", "grade", "load_case_record", "load_workup"]

WEIGHTS = {"diagnosis": 0.4, "findings": 0.2, "completeness": 0.15, "plan": 0.25}
_CLAIM_KINDS = frozenset({"imaging", "sign", "lab", "symptom"})
_KEY_KINDS = frozenset({"imaging", "sign", "lab"})
_NOT_CLAIMS = frozenset(
    {
        "normal",
        "not-visualised",
        "pain",
        "swelling",
        "progressive",
        "insidious-onset",
        "sudden-onset",
    }
)
_GENERIC = GENERIC_TISSUES


class DiagnosisGrade(BaseModel):
    truth: str
    correct: bool
    rank: int | None
    named: str
    differential: list[str]


class Invented(BaseModel):
    text: str
    why: str


class Omission(BaseModel):
    finding: str
    why: str


class GradeResult(BaseModel):
    case_id: str | None
    diagnosis: DiagnosisGrade
    invented_findings: list[Invented]
    omissions: list[Omission]
    plan: PlanGrade
    components: dict[str, float]
    score: float
    kb_version: str


# ---- input -------------------------------------------------------------------


def load_workup(path: str) -> str | Report:
    """A work-up file: free text (Markdown or plain) or a dxrx JSON report."""
    name, text = read_text(path)
    if text.lstrip().startswith("{"):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{name} looks like JSON but is not valid: {exc.msg}") from None
        if not isinstance(doc, dict) or "differential" not in doc:
            raise InputError(f"{name}: a JSON work-up must be a dxrx report (with 'differential')")
        try:
            return Report.model_validate(doc)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise InputError(f"{name}: not a dxrx report ({where}: {first['msg']})") from None
    check_english(text, name)
    return text


def load_case_record(path: str) -> dict[str, Any]:
    name, text = read_text(path)
    doc = parse_json_case(text, name)
    if not isinstance(doc.get("final_diagnosis"), str) or not doc["final_diagnosis"].strip():
        raise InputError(f"{name}: the case has no 'final_diagnosis' to grade against")
    return doc


# ---- findings ------------------------------------------------------------------


def _related(kb: KnowledgeBase, a: str, b: str) -> bool:
    return kb.concept_is_a(a, b) or kb.concept_is_a(b, a)


def _specific(kb: KnowledgeBase, sids: list[str]) -> set[str]:
    out: set[str] = set()
    for sid in sids:
        out.update(s for s in kb.structure_ancestors.get(sid, (sid,)) if s not in _GENERIC)
    return out


_FLUID = frozenset({"T2", "STIR", "FS", "PD"})


def _seq_group(kb: KnowledgeBase, f: Finding) -> set[str]:
    """Sequences a finding was seen on; 'oedema' without one implies a fluid-sensitive one."""
    if not f.sequences and kb.concept_is_a(f.concept, "oedema"):
        return {"fluid"}
    return {"fluid" if s in _FLUID else s for s in f.sequences}


def _same_sequence(kb: KnowledgeBase, a: Finding, b: Finding) -> bool:
    sa, sb = _seq_group(kb, a), _seq_group(kb, b)
    return not sa or not sb or bool(sa & sb)


def _same_place(kb: KnowledgeBase, a: Finding, b: Finding) -> bool:
    """Same structure (when both name one) and same kind of sequence (when both name one)."""
    if not _same_sequence(kb, a, b):
        return False
    sa, sb = _specific(kb, a.structures), _specific(kb, b.structures)
    return not sa or not sb or bool(sa & sb)


def _invented(kb: KnowledgeBase, claims: list[Finding], case: Case) -> list[Invented]:
    facts = [g for g in case.findings if not g.negated]
    out: list[Invented] = []
    for f in claims:
        if f.uncertain or f.concept in _NOT_CLAIMS or f.kind not in _CLAIM_KINDS:
            continue
        if f.negated:
            clash = next(
                (
                    g
                    for g in facts
                    if g.kind in _KEY_KINDS
                    and _related(kb, f.concept, g.concept)
                    and f.structures
                    and g.structures
                    and _same_place(kb, f, g)
                ),
                None,
            )
            if clash is not None:
                out.append(
                    Invented(
                        text=f.span.text.strip(),
                        why=f"denies {f.label}, but the case reports: {clash.span.text.strip()!r}",
                    )
                )
            continue
        if any(_related(kb, f.concept, g.concept) and _same_place(kb, f, g) for g in facts):
            continue
        near = next(
            (g for g in case.findings if f.structures and g.structures and _same_place(kb, f, g)),
            None,
        )
        why = (
            f"the case does not report {f.label}; about that structure it says: "
            f"{near.span.text.strip()!r}"
            if near is not None
            else f"the case does not report {f.label}"
        )
        out.append(Invented(text=f.span.text.strip(), why=why))
    unique: dict[str, Invented] = {}
    for inv in out:
        unique.setdefault(inv.text, inv)
    return list(unique.values())


def _omissions(
    kb: KnowledgeBase, claims: list[Finding], case: Case, report: Report
) -> tuple[list[Omission], float]:
    """Key case findings the work-up never states, and the share of key content missed."""
    said = [f for f in claims if not f.negated]
    stage_basis = report.imaging.stage_basis
    by_sentence: dict[int, list[tuple[str, str, int]]] = {}
    missed = 0.0
    key = 0
    for g in case.findings:
        if g.negated or g.uncertain or g.kind not in _KEY_KINDS or g.concept in _NOT_CLAIMS:
            continue
        key += 1
        covering = [
            f for f in said if _related(kb, f.concept, g.concept) and _same_sequence(kb, f, g)
        ]
        if g.structures:
            missing = [
                s
                for s in g.structures
                if not any(
                    not f.structures or _specific(kb, [s]) & _specific(kb, f.structures)
                    for f in covering
                )
            ]
            missed += len(missing) / len(g.structures)
        else:
            missing = [] if covering else ["-"]
            missed += 1.0 if missing else 0.0
        if not missing:
            continue
        where = ", ".join(kb.name_of(s) for s in missing if s != "-")
        seq = f" on {'/'.join(g.sequences)}" if g.sequences else ""
        what = f"{kb.name_of(g.concept)}{seq}" + (f" in {where}" if where else "")
        uses = [
            e.statement
            for e in report.differential[0].for_
            if e.span is not None and e.span.start == g.span.start
        ]
        if g.concept in ("fatty-change", "atrophy") and report.imaging.stage:
            why, rank = f"it dates the lesion ({report.imaging.stage}): {stage_basis}", 0
        elif uses:
            why, rank = f"it is evidence for the leading diagnosis: {uses[0]}", 1
        else:
            why, rank = f"a key abnormal finding of the case: {g.span.text.strip()!r}", 2
        by_sentence.setdefault(g.span.start, []).append((what, why, rank))
    out = []
    for items in by_sentence.values():
        best = min(items, key=lambda t: t[2])
        out.append(Omission(finding="; ".join(w for w, _, _ in items), why=best[1]))
    return out, (missed / key if key else 0.0)


# ---- diagnosis -------------------------------------------------------------------


def _truth_ids(kb: KnowledgeBase, truth: str) -> set[str]:
    return {c.id for c in kb.conditions.values() if label_matches(truth, [c.name, *c.aliases])}


def _grade_diagnosis(
    kb: KnowledgeBase, truth: str, main_text: str | None, ordered: list[str]
) -> DiagnosisGrade:
    truth_ids = _truth_ids(kb, truth)
    rank = next((i for i, cid in enumerate(ordered, 1) if cid in truth_ids), None)
    stated_ok = main_text is not None and label_matches(truth, [main_text])
    if stated_ok:
        rank = 1
    named = main_text or (kb.conditions[ordered[0]].name if ordered else "")
    return DiagnosisGrade(
        truth=truth,
        correct=rank == 1,
        rank=rank,
        named=named,
        differential=[kb.conditions[c].name for c in ordered],
    )


# ---- whole grade ---------------------------------------------------------------------


def _affected(kb: KnowledgeBase, report: Report) -> set[str]:
    names = set(report.localisation.affected_muscles)
    ids = {m.id for m in kb.muscles.values() if m.name in names}
    for f in report.case.findings:
        if not f.negated:
            ids |= {s for s in f.structures if s in kb.muscles}
    return ids


def _score(
    dx: DiagnosisGrade, invented: int, missed: float, plan: PlanGrade, missing_ddx: bool
) -> dict[str, float]:
    diag = 1.0 if dx.correct else 0.5 if dx.rank in (2, 3) else 0.25 if dx.rank in (4, 5) else 0.0
    findings = 1.0 / (1 + invented)
    completeness = max(0.0, 1.0 - missed - (0.25 if missing_ddx else 0.0))
    parts = [
        plan.fitt_share,
        1.0 if plan.trains_affected_muscles in (True, None) else 0.0,
        0.0 if plan.contraindicated else 1.0,
        1.0
        if plan.referral_advice and plan.red_flag_advice
        else 0.5
        if plan.referral_advice or plan.red_flag_advice
        else 0.0,
        1.0 if plan.disclaimer else 0.0,
    ]
    return {
        "diagnosis": round(diag, 3),
        "findings": round(findings, 3),
        "completeness": round(completeness, 3),
        "plan": round(sum(parts) / len(parts), 3),
    }


def grade(workup: str | Report, record: dict[str, Any], kb: KnowledgeBase) -> GradeResult:
    """Grade a work-up (free text or a dxrx report) of the case ``record``."""
    truth = record["final_diagnosis"]
    case = ingest_record(record, kb)
    reference = analyze_case(case, kb)
    truth_ids = _truth_ids(kb, truth)
    truth_id = next(iter(sorted(truth_ids)), None)
    affected = _affected(kb, reference)
    if isinstance(workup, Report):
        ordered = [d.id for d in workup.differential if d.id in kb.conditions]
        dx = _grade_diagnosis(kb, truth, None, ordered)
        claims = list(workup.case.findings)
        quality = assess_plan(kb, workup.plan, case)
        stages = [
            StageFitt.of(st.name, fitt_missing(st.fitt_vp))
            for st in workup.plan.rehabilitation.stages
        ]
        trained = {
            m.id for m in kb.muscles.values() if m.name in workup.plan.rehabilitation.target_muscles
        }
        plan = PlanGrade.of(
            kb,
            stages,
            trained,
            affected,
            contraindicated=[
                Unsafe(text=u, why="flagged by the plan rubric") for u in quality.unsafe
            ],
            referral_advice=bool(workup.plan.referral),
            red_flag_advice=True,
            disclaimer=bool(workup.disclaimer),
        )
    else:
        reading = read_workup(workup, kb)
        ordered = list(
            dict.fromkeys(
                [*([reading.main] if reading.main else []), *(m.key for m in reading.mentions)]
            )
        )
        dx = _grade_diagnosis(kb, truth, reading.statement, ordered)
        claims = ingest_text(workup[: reading.findings_end], kb).findings
        plan = grade_text_plan(kb, workup[reading.findings_end :], case, affected, truth_id)
    invented = _invented(kb, claims, case)
    omissions, missed = _omissions(kb, claims, case, reference)
    missing_ddx = len(dx.differential) < 2
    if missing_ddx:
        others = [d.name for d in reference.differential if d.id not in truth_ids][:3]
        omissions.append(
            Omission(
                finding="differential diagnosis",
                why="the work-up names no alternative diagnosis; for this case dxrx would weigh "
                + ", ".join(others),
            )
        )
    parts = _score(dx, len(invented), missed, plan, missing_ddx)
    total = sum(WEIGHTS[k] * v for k, v in parts.items())
    return GradeResult(
        case_id=record.get("id"),
        diagnosis=dx,
        invented_findings=invented,
        omissions=omissions,
        plan=plan,
        components=parts,
        score=round(total, 3),
        kb_version=kb.version,
    )
