"""Which stages a patient goes through and where they start.

The assessed stage of the process (acute, subacute, chronic) picks the first
stage; a case that says the patient was operated on starts on the protocol's
post-operative track (or the KB's general one) and joins the main protocol
after it.
"""

from __future__ import annotations

from dataclasses import dataclass

from dxrx.kb.loader import GENERAL_POST_OP, KnowledgeBase
from dxrx.kb.schema import Protocol, ProtocolStage
from dxrx.model import Assessment, Span
from dxrx.plan.personalise import stated

POST_OPERATIVE = "post-operative"


def _current_index(stages: list[ProtocolStage], assessed: str | None) -> int:
    if assessed is None:
        return 0
    for i, st in enumerate(stages):
        if assessed in st.starts_at:
            return i
    return 0


@dataclass(frozen=True)
class Track:
    """The stages this patient goes through, which one is current, and why."""

    stages: list[tuple[ProtocolStage, bool]]  # (stage, post-operative)
    current: int
    basis: str
    span: Span | None = None


def choose_track(
    kb: KnowledgeBase, protocol: Protocol, assessment: Assessment | None, stage: str | None
) -> Track:
    """Post-operative stages first when the case says the patient was operated on."""
    case = assessment.case if assessment else None
    operated = stated(kb, case, ["post-operative"])
    if operated is not None or (assessment is None and stage == POST_OPERATIVE):
        own = protocol.post_operative
        if own is not None:
            post = own.stages
            rejoin = next(i for i, st in enumerate(protocol.stages) if st.id == own.rejoin)
        else:
            post = kb.protocols[GENERAL_POST_OP].stages
            rejoin = 1
        which = "this condition's" if own else "the general"
        why = (
            f"the case states the patient was operated on ({operated.cue.text!r})"
            if operated is not None
            else "as requested"
        )
        return Track(
            [(st, True) for st in post] + [(st, False) for st in protocol.stages[rejoin:]],
            0,
            f"post-operative: {why}; start with {which} post-operative stages",
            operated.span if operated is not None else None,
        )
    main = [(st, False) for st in protocol.stages]
    if assessment is not None:
        imaging = assessment.imaging
        current = _current_index(protocol.stages, imaging.stage)
        if imaging.stage is None:
            return Track(main, 0, "stage of the process not stated: start at the first stage")
        return Track(main, current, f"{imaging.stage} stage ({imaging.stage_basis.rstrip('.')})")
    if stage is not None:
        return Track(main, _current_index(protocol.stages, stage), f"{stage} stage, as requested")
    return Track(main, 0, "no case: the protocol from its first stage")
