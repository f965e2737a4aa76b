"""Does a case finding satisfy a KB finding rule?"""

from __future__ import annotations

from dxrx.kb.loader import KnowledgeBase
from dxrx.kb.schema import FindingRule
from dxrx.model import Finding

FLUID_SEQUENCES = frozenset({"STIR", "T2", "FS", "PD"})


_CLOSURES: dict[tuple[str, tuple[str, ...]], frozenset[str]] = {}


def structure_closure(kb: KnowledgeBase, ids: list[str]) -> frozenset[str]:
    """The structures named, everything they are part of, and their generic tissue."""
    key = (kb.version, tuple(ids))
    found = _CLOSURES.get(key)
    if found is None:
        if len(_CLOSURES) > 50_000:  # bounded: a long-running server sees many cases
            _CLOSURES.clear()
        found = _CLOSURES[key] = frozenset(
            a for sid in ids for a in kb.structure_ancestors.get(sid, (sid,))
        )
    return found


def finding_regions(kb: KnowledgeBase, f: Finding) -> list[str]:
    """Where a finding is: its own regions and those of its structures. A structure filed
    only under a whole limb or the trunk (cortex, marrow, skin) says nothing about where."""
    regions = list(f.regions)
    for sid in f.structures:
        st = kb.structures.get(sid)
        if st is not None and len(kb.region_ancestors.get(st.region, ())) > 1:
            regions.append(st.region)
    return regions


UNSTATED = 0.6  # a finding that leaves an attribute unsaid fits a rule that needs it, weakly
UNSTATED_CAP = 0.5  # ... and is worth at most this much evidence, however specific the rule
OTHER_MODALITY = 0.5  # the same sign seen on another modality than the rule names


# evidence (log-score) a present finding adds, by the rule's evoking strength (DXplain scale)
EVOKE = {0: 0.1, 1: 0.4, 2: 0.8, 3: 1.4, 4: 2.2, 5: 3.2}


def _unstated(rule: FindingRule) -> float:
    """Match quality on an unsaid attribute: the rule's specificity came from that attribute."""
    return min(UNSTATED, UNSTATED_CAP / EVOKE[rule.evoking]) if rule.evoking else UNSTATED


def _regions_meet(kb: KnowledgeBase, a: list[str], b: list[str]) -> bool:
    return any(kb.region_is_within(x, y) or kb.region_is_within(y, x) for x in a for y in b)


def _structure_regions(kb: KnowledgeBase, ids: list[str]) -> list[str]:
    out = []
    for sid in ids:
        st = kb.structures.get(sid)
        if st is not None:
            out.append(st.region)
    return out


def rule_match(
    kb: KnowledgeBase,
    rule: FindingRule,
    f: Finding,
    context: frozenset[str] = frozenset(),
) -> float:
    """0 when the finding does not satisfy the rule, else how well it does (0-1].

    A denied finding ("no numbness") is general: attributes it leaves unsaid do not
    stop it from contradicting a more specific rule. A present finding that leaves an
    attribute unsaid (no site, no sequence, no modality) fits a rule that names one only
    weakly (no site, movement, sequence or modality); one that states a different site,
    action or sequence does not fit at all.
    ``context`` holds the body regions the case names anywhere: a finding with no place of
    its own ("synovial proliferation that follows fat signal") is read in that context.
    """
    if not kb.concept_is_a(f.concept, rule.concept):
        return 0.0
    lenient = f.negated
    quality = 1.0
    if rule.modalities and f.modality not in rule.modalities:
        if f.modality is None:
            quality *= 1.0 if lenient else _unstated(rule)
        elif lenient:
            return 0.0  # "no fracture on radiographs" says nothing about MRI
        else:
            quality *= OTHER_MODALITY
    if rule.sequences and not any(q in rule.sequences for q in f.sequences):
        implied_fluid = not f.sequences and kb.concept_is_a(f.concept, "oedema")
        if f.sequences:
            return 0.0
        if not (lenient or (implied_fluid and FLUID_SEQUENCES & set(rule.sequences))):
            quality *= _unstated(rule)
    if rule.actions and not any(a in rule.actions for a in f.actions):
        if f.actions:
            return 0.0
        if not lenient:
            quality *= _unstated(rule)  # "weakness of the arm": which movement is unsaid
    if rule.regions:
        regions = finding_regions(kb, f)
        if not _regions_meet(kb, regions, rule.regions):
            if regions:
                return 0.0
            quality *= 1.0 if lenient else _unstated(rule)
    if rule.structures:
        if not f.structures:
            if lenient:
                return quality
            # placed only by body region: that region must fit the rule's structures
            where = _structure_regions(kb, rule.structures)
            if f.regions and where and not _regions_meet(kb, f.regions, where):
                return 0.0
            if not f.regions and where and _regions_meet(kb, list(context), where):
                return quality * UNSTATED  # the case's own region supplies the place
            return quality * _unstated(rule)
        have = structure_closure(kb, f.structures)
        hits = [s for s in rule.structures if s in have]
        if not hits and lenient:
            # a denial about a whole denies it of the parts: "no foraminal narrowing in the
            # cervical spine" speaks for each cervical foramen
            named = set(f.structures)
            hits = [s for s in rule.structures if named & set(kb.structure_ancestors.get(s, ()))]
        if not hits:
            return 0.0
        if len(rule.structures) > 1:
            quality *= 0.5 + 0.5 * len(hits) / len(rule.structures)
    return quality
