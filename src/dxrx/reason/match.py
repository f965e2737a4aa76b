"""Does a case finding satisfy a KB finding rule?"""

from __future__ import annotations

from dxrx.kb.loader import KnowledgeBase
from dxrx.kb.schema import FindingRule
from dxrx.model import Finding

FLUID_SEQUENCES = frozenset({"STIR", "T2", "FS", "PD"})


def structure_closure(kb: KnowledgeBase, ids: list[str]) -> set[str]:
    """The structures named, everything they are part of, and their generic tissue."""
    out: set[str] = set()
    for sid in ids:
        out.update(kb.structure_ancestors.get(sid, (sid,)))
    return out


def finding_regions(kb: KnowledgeBase, f: Finding) -> list[str]:
    regions = list(f.regions)
    for sid in f.structures:
        st = kb.structures.get(sid)
        if st is not None:
            regions.append(st.region)
    return regions


def rule_match(kb: KnowledgeBase, rule: FindingRule, f: Finding) -> float:
    """0 when the finding does not satisfy the rule, else the share of it satisfied (0-1].

    A denied finding ("no numbness") is general: attributes it leaves unsaid do not
    stop it from contradicting a more specific rule. A present finding must show
    every attribute the rule asks for.
    """
    if not kb.concept_is_a(f.concept, rule.concept):
        return 0.0
    lenient = f.negated
    if rule.modalities and f.modality not in rule.modalities:
        if not (lenient and f.modality is None):
            return 0.0
    if rule.sequences and not set(f.sequences) & set(rule.sequences):
        implied_fluid = not f.sequences and kb.concept_is_a(f.concept, "oedema")
        if not (lenient and not f.sequences) and not (
            implied_fluid and FLUID_SEQUENCES & set(rule.sequences)
        ):
            return 0.0
    if rule.actions and not set(f.actions) & set(rule.actions):
        if not (lenient and not f.actions):
            return 0.0
    if rule.regions:
        regions = finding_regions(kb, f)
        hit = any(
            kb.region_is_within(r, want) or kb.region_is_within(want, r)
            for r in regions
            for want in rule.regions
        )
        if not hit and not (lenient and not regions):
            return 0.0
    if rule.structures:
        have = structure_closure(kb, f.structures)
        hits = [s for s in rule.structures if s in have]
        if not hits:
            return 0.0 if not (lenient and not f.structures) else 1.0
        if len(rule.structures) == 1:
            return 1.0
        return 0.5 + 0.5 * len(hits) / len(rule.structures)
    return 1.0
