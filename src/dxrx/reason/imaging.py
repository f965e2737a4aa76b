"""Imaging read-out and the stage of the process.

The stage comes from the MRI signal of denervated muscles when there is a
denervation pattern (KB ``staging`` rules), otherwise from symptom duration
(KB ``duration_staging``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dxrx.kb.loader import KnowledgeBase
from dxrx.model import Case, Finding, ImagingReadout
from dxrx.reason.match import FLUID_SEQUENCES


@dataclass
class MuscleSignal:
    """Per-case summary of the denervation-type signal of muscles."""

    fluid_high: set[str] = field(default_factory=set)
    t1_fat: dict[str, str] = field(default_factory=dict)
    atrophy: set[str] = field(default_factory=set)
    spared: set[str] = field(default_factory=set)
    sources: dict[str, list[Finding]] = field(default_factory=dict)

    @property
    def affected(self) -> set[str]:
        return self.fluid_high | set(self.t1_fat) | self.atrophy


def muscle_signal(case: Case, kb: KnowledgeBase) -> MuscleSignal:
    sig = MuscleSignal()
    # "mild increase in T1 signal, indicating fatty change": the fatty change takes the
    # grade stated in its own clause; an ungraded fatty change elsewhere counts as established
    clause_grade = {f.span.start: f.grade for f in case.findings if f.grade is not None}

    def _t1_grade(f: Finding) -> str:
        grade = f.grade or clause_grade.get(f.span.start)
        return "mild" if grade == "mild" else "marked"

    for f in case.findings:
        muscles = [s for s in f.structures if s in kb.muscles]
        if not muscles or f.uncertain:
            continue
        if f.negated or f.concept == "normal":
            if f.concept == "normal" and not f.negated:
                sig.spared.update(muscles)
            elif f.negated and f.concept != "normal":
                sig.spared.update(muscles)
            continue
        if f.modality is None and f.kind != "imaging":
            continue
        hit = False
        if kb.concept_is_a(f.concept, "high-signal"):
            seqs = set(f.sequences)
            if seqs & FLUID_SEQUENCES or (not seqs and kb.concept_is_a(f.concept, "oedema")):
                sig.fluid_high.update(muscles)
                hit = True
            if "T1" in seqs:
                for m in muscles:
                    grade = _t1_grade(f)
                    if sig.t1_fat.get(m) != "marked":
                        sig.t1_fat[m] = grade
                hit = True
        elif kb.concept_is_a(f.concept, "fatty-change"):
            for m in muscles:
                grade = _t1_grade(f)
                if sig.t1_fat.get(m) != "marked":
                    sig.t1_fat[m] = grade
            hit = True
        elif kb.concept_is_a(f.concept, "atrophy"):
            sig.atrophy.update(muscles)
            hit = True
        if hit:
            for m in muscles:
                sig.sources.setdefault(m, []).append(f)
    sig.spared -= sig.affected
    return sig


def _stage(case: Case, kb: KnowledgeBase, sig: MuscleSignal) -> tuple[str | None, str, list[str]]:
    if sig.affected:
        fluid = bool(sig.fluid_high)
        grades = set(sig.t1_fat.values())
        t1 = "marked" if "marked" in grades else ("mild" if grades else "none")
        atrophy = bool(sig.atrophy)
        for rule in kb.staging:
            if rule.fluid_high != fluid or rule.t1_fat != t1:
                continue
            if rule.atrophy is not None and rule.atrophy != atrophy:
                continue
            return rule.stage, f"MRI denervation pattern: {rule.explanation}", list(rule.refs)
    if case.duration_days is not None:
        for drule in kb.duration_staging:
            if drule.max_days is None or case.duration_days <= drule.max_days:
                weeks = case.duration_days / 7
                return (
                    drule.stage,
                    f"Symptom duration of about {weeks:.0f} weeks ({case.duration_text!r}): "
                    f"{drule.explanation}",
                    list(drule.refs),
                )
    return None, "Neither imaging nor the history dates the process.", []


def imaging_readout(case: Case, kb: KnowledgeBase) -> tuple[ImagingReadout, MuscleSignal]:
    findings = [f for f in case.findings if f.modality is not None]
    by_modality: dict[str, list[str]] = {}
    for f in findings:
        by_modality.setdefault(f.modality or "", []).append(f.label.replace(f" [{f.modality}]", ""))
    parts = [f"{mod}: " + "; ".join(dict.fromkeys(labels)) for mod, labels in by_modality.items()]
    sig = muscle_signal(case, kb)
    stage, basis, refs = _stage(case, kb, sig)
    summary = ". ".join(parts) + "." if parts else "No imaging findings were given."
    return (
        ImagingReadout(
            summary=summary,
            findings=findings,
            stage=stage,
            stage_basis=basis,
            stage_refs=refs,
        ),
        sig,
    )
