"""reason: Case -> Assessment (imaging read-out, stage, localisation, differential, red flags).

Reads typed findings only, never text.
"""

from __future__ import annotations

from dxrx.kb.loader import KnowledgeBase
from dxrx.model import Assessment, Case
from dxrx.reason.imaging import imaging_readout
from dxrx.reason.localise import deficits, localise
from dxrx.reason.redflags import red_flags
from dxrx.reason.score import rank

__all__ = ["reason"]


def reason(case: Case, kb: KnowledgeBase) -> Assessment:
    readout, signal = imaging_readout(case, kb)
    loc = localise(case, kb, signal)
    affected = deficits(case, kb, signal).muscles
    differential = rank(kb, case, loc, affected)
    flags, screened = red_flags(case, kb)
    return Assessment(
        case=case,
        imaging=readout,
        localisation=loc,
        differential=differential,
        red_flags=flags,
        red_flags_screened_negative=screened,
    )
