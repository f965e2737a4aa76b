"""Negation and uncertainty by the ConText algorithm (Harkema et al. 2009).

Why not medspaCy: its ConText and sectionizer work offline, but it pins spaCy
below 3.8 and importing it costs about two seconds, which alone breaks dxrx's
one-second cold-start budget for a command-line call. ConText itself is a
small algorithm over trigger lists; dxrx keeps the triggers as data
(``ingest/rules.yaml``, the same shape as medspaCy's ``context_rules.json``)
and applies them here with clause-bounded scopes.
"""

from __future__ import annotations

from dataclasses import dataclass

from dxrx.ingest.lexicon import Lexicon, Match


@dataclass(frozen=True, slots=True)
class Modifier:
    start: int
    end: int
    direction: str  # forward | backward


def _modifiers(matches: list[Match], targets: list[Match]) -> list[Modifier]:
    out: list[Modifier] = []
    for m in matches:
        direction = m.key
        if direction == "pseudo" or "pseudo" in m.keys:
            continue
        # a trigger inside a finding phrase ("no cause", "absent knee reflex") is part of it
        if any(m.overlaps(t) for t in targets):
            continue
        out.append(Modifier(m.start, m.end, direction))
    return out


def _pseudo_spans(matches: list[Match]) -> list[Match]:
    return [m for m in matches if "pseudo" in m.keys]


def scope_flags(
    text: str, clause: tuple[int, int], targets: list[Match], lex: Lexicon
) -> dict[int, tuple[bool, bool]]:
    """For each target (by start offset): (negated, uncertain) within its clause."""
    c_start, c_end = clause
    neg = lex.negation.find(text, c_start, c_end)
    pseudo = _pseudo_spans(neg)
    neg = [m for m in neg if not any(m.overlaps(p) and m is not p for p in pseudo)]
    unc = lex.uncertainty.find(text, c_start, c_end)
    unc = [m for m in unc if not any(m.overlaps(p) for p in pseudo)]
    terms = lex.terminator.find(text, c_start, c_end)
    neg_mods = _modifiers(neg, targets)
    unc_mods = _modifiers(unc, targets)

    def in_scope(target: Match, mods: list[Modifier]) -> bool:
        for mod in mods:
            if mod.direction == "forward" and mod.end <= target.start:
                if not any(mod.end <= t.start and t.end <= target.start for t in terms):
                    return True
            elif mod.direction == "backward" and target.end <= mod.start:
                if not any(target.end <= t.start and t.end <= mod.start for t in terms):
                    return True
        return False

    return {t.start: (in_scope(t, neg_mods), in_scope(t, unc_mods)) for t in targets}
