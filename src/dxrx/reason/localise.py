"""Localise the lesion by set cover over the anatomy graph.

Every nerve, branch, plexus and root is a candidate site; a site "explains"
an involved muscle it supplies (directly or through its branches), a weak
action one of whose prime movers it supplies, and a numb area inside its
sensory territory. The best site explains the most and conflicts with the
fewest explicitly spared muscles; among equals the most distal (the one
supplying the fewest muscles) wins, as in clinical localisation.
"""

from __future__ import annotations

from dataclasses import dataclass

from dxrx.kb.loader import KnowledgeBase
from dxrx.model import Case, Localisation, SiteFit
from dxrx.reason.imaging import MuscleSignal

_SENSORY = ("numbness", "paraesthesia")
_KIND_ORDER = {"branch": 0, "nerve": 1, "division": 1, "root": 2, "plexus": 3}
_MIN_FIT = 0.6


@dataclass(frozen=True)
class Deficits:
    muscles: frozenset[str]
    actions: frozenset[str]
    areas: frozenset[str]
    spared: frozenset[str]

    @property
    def size(self) -> int:
        return len(self.muscles) + len(self.actions) + len(self.areas)


def deficits(case: Case, kb: KnowledgeBase, sig: MuscleSignal) -> Deficits:
    muscles = set(sig.affected)
    actions: set[str] = set()
    areas: set[str] = set()
    for f in case.findings:
        if f.negated or f.uncertain:
            continue
        if kb.concept_is_a(f.concept, "weakness"):
            muscles.update(s for s in f.structures if s in kb.muscles)
            actions.update(a for a in f.actions if a in kb.actions)
        elif kb.concept_is_a(f.concept, "muscle-wasting"):
            # wasting of a named muscle on examination marks it involved, as weakness does
            muscles.update(s for s in f.structures if s in kb.muscles)
        elif any(kb.concept_is_a(f.concept, c) for c in _SENSORY) and f.modality is None:
            areas.update(f.regions)
    return Deficits(frozenset(muscles), frozenset(actions), frozenset(areas), frozenset(sig.spared))


def _sensory_territory(kb: KnowledgeBase, site: str) -> set[str]:
    if site in kb.roots:
        return set(kb.roots[site].dermatome)
    out: set[str] = set()
    stack = [site]
    while stack:
        cur = stack.pop()
        nerve = kb.nerves.get(cur)
        if nerve is not None:
            out.update(nerve.sensory)
        stack.extend(kb.nerve_children.get(cur, []))
    return out


def _prime_movers(kb: KnowledgeBase, action: str) -> set[str]:
    return {m.id for m in kb.muscles.values() if action in m.actions}


def fit_site(kb: KnowledgeBase, site: str, d: Deficits, movers: dict[str, set[str]]) -> SiteFit:
    supplied = kb.muscles_of_site.get(site, frozenset())
    covered = d.muscles & supplied
    acts = {a for a in d.actions if movers[a] & supplied}
    territory = _sensory_territory(kb, site)
    areas = {
        a
        for a in d.areas
        if any(kb.region_is_within(a, t) or kb.region_is_within(t, a) for t in territory)
    }
    conflicts = d.spared & supplied
    explained = len(covered) + len(acts) + len(areas)
    fit = explained / d.size if d.size else 0.0
    fit -= 0.5 * len(conflicts) / max(1, d.size)
    names = kb.name_of
    return SiteFit(
        site=site,
        name=names(site),
        kind=kb.site_kind(site),
        explains=[names(m) for m in sorted(covered)]
        + [f"weak {names(a)}" for a in sorted(acts)]
        + [f"sensory change in {names(a)}" for a in sorted(areas)],
        unexplained=[names(m) for m in sorted(d.muscles - covered)]
        + [f"weak {names(a)}" for a in sorted(d.actions - acts)]
        + [f"sensory change in {names(a)}" for a in sorted(d.areas - areas)],
        spared_conflicts=[names(m) for m in sorted(conflicts)],
        predicted_not_reported=[names(m) for m in sorted(supplied - d.muscles)],
        fit=round(fit, 3),
    )


def _rank_key(kb: KnowledgeBase, f: SiteFit) -> tuple[float, int, int, str]:
    size = len(kb.muscles_of_site.get(f.site, frozenset()))
    return (-f.fit, size, _KIND_ORDER.get(f.kind, 4), f.site)


def localise(case: Case, kb: KnowledgeBase, sig: MuscleSignal) -> Localisation:
    d = deficits(case, kb, sig)
    if d.size == 0:
        return Localisation(
            site=None,
            reasoning="No denervated or weak muscle, weak movement or numb area is stated, "
            "so there is nothing to localise to a nerve or root.",
        )
    movers = {a: _prime_movers(kb, a) for a in d.actions}
    fits = [fit_site(kb, site, d, movers) for site in kb.muscles_of_site]
    fits = [f for f in fits if f.fit > 0]
    fits.sort(key=lambda f: _rank_key(kb, f))
    affected = [kb.name_of(m) for m in sorted(d.muscles)]
    spared = [kb.name_of(m) for m in sorted(d.spared)]
    if not fits or fits[0].fit < _MIN_FIT:
        return Localisation(
            site=None,
            affected_muscles=affected,
            spared=spared,
            alternatives=fits[:3],
            reasoning="No single nerve, plexus or root supplies the involved muscles and areas; "
            "the pattern suggests a multifocal, diffuse or non-neurogenic process.",
        )
    best = fits[0]
    root_alt = (
        next((f for f in fits[1:] if f.kind == "root"), None) if best.kind != "root" else None
    )
    refs = site_refs(kb, best.site)
    note = (
        f"{best.name} supplies {', '.join(best.explains)}"
        + (f"; it does not explain {', '.join(best.unexplained)}" if best.unexplained else "")
        + (
            f"; spared muscles it supplies: {', '.join(best.spared_conflicts)}"
            if best.spared_conflicts
            else ""
        )
        + ". Of the sites that explain the pattern equally well it is the most distal."
    )
    if root_alt is not None:
        note += (
            f" A lesion of the {root_alt.name} would also explain {', '.join(root_alt.explains)}"
            f" but predicts involvement of further muscles not reported"
            f" ({', '.join(root_alt.predicted_not_reported[:6])}"
            f"{', ...' if len(root_alt.predicted_not_reported) > 6 else ''})."
        )
    return Localisation(
        site=best.name,
        site_id=best.site,
        kind=best.kind,
        explains=best.explains,
        unexplained=best.unexplained,
        spared=spared,
        affected_muscles=affected,
        alternatives=fits[1:4],
        root_alternative=root_alt,
        reasoning=note,
        refs=refs,
    )


def site_refs(kb: KnowledgeBase, site: str) -> list[str]:
    """The anatomy references behind a nerve, root or plexus record."""
    for table in (kb.nerves, kb.roots, kb.plexuses):
        rec = table.get(site)
        if rec is not None:
            return list(rec.refs)
    return []
