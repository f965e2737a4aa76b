"""CarePlan (rehabilitation stages and treatment steps) and referral ServiceRequests.

Activity statuses are chosen for the clinician reading the plan: the stage
the patient starts in is ``in-progress``; later stages are ``not-started``
(not ``scheduled``: they begin when the progress criteria are met, not on a
date); stages before the starting one are ``cancelled`` with the reason,
because the patient is already past them (saying ``completed`` would claim
rehabilitation that never happened). Treatment steps are ``not-started``
when advised or advised with caution, and ``on-hold`` when this patient's
factors withhold them; the caution is the status reason.
"""

from __future__ import annotations

from typing import Any

from dxrx.fhir.codes import concept
from dxrx.model import Plan, RedFlagHit, RehabStage, TreatmentItem

Resource = dict[str, Any]

# red-flag urgency -> ServiceRequest.priority
PRIORITY = {"emergency": "stat", "urgent": "urgent", "soon": "asap"}


def _stage_text(stage: RehabStage) -> str:
    fv = stage.fitt_vp
    fitt = (
        f"FITT-VP: frequency {fv.frequency}; intensity {fv.intensity}; time {fv.time}; "
        f"type {fv.type}; volume {fv.volume}; progression {fv.progression}."
    )
    parts = [f"{stage.name}.", fitt]
    if stage.exercises:
        parts.append(
            "Exercises: " + "; ".join(f"{ex.name} ({ex.dosage})" for ex in stage.exercises) + "."
        )
    if stage.avoid:
        parts.append("Avoid: " + "; ".join(stage.avoid) + ".")
    if stage.progress_criteria:
        parts.append("Progress when: " + "; ".join(stage.progress_criteria) + ".")
    return " ".join(parts)


def _stage_activity(stage: RehabStage, index: int, current: int, basis: str) -> Resource:
    detail: Resource = {
        "code": {"text": f"Rehabilitation stage {index + 1}: {stage.name}"},
        "description": _stage_text(stage),
    }
    if index == current:
        detail["status"] = "in-progress"
    elif index > current:
        detail["status"] = "not-started"
    else:
        detail["status"] = "cancelled"
        reason = f"Passed over: the patient starts at stage {current + 1}"
        detail["statusReason"] = {"text": f"{reason} ({basis})" if basis else reason}
    if stage.weeks:
        detail["scheduledString"] = f"at least {stage.weeks} weeks"
    return {"detail": detail}


def _treatment_activity(item: TreatmentItem) -> Resource:
    text = item.text if not item.criteria else f"{item.text} When: {item.criteria}"
    detail: Resource = {
        "code": {"text": item.phase.capitalize()},
        "description": text,
        "status": "on-hold" if item.status == "withheld" else "not-started",
    }
    if item.caution:
        detail["statusReason"] = {"text": item.caution}
    return {"detail": detail}


def care_plan(
    plan: Plan, subject: dict[str, str], condition: dict[str, str], meta: Resource
) -> Resource:
    """The staged rehabilitation, one activity a stage, then the treatment steps."""
    rehab = plan.rehabilitation
    current = next((i for i, s in enumerate(rehab.stages) if s.current), 0)
    activities = [
        _stage_activity(s, i, current, rehab.start_basis) for i, s in enumerate(rehab.stages)
    ]
    activities += [_treatment_activity(t) for t in plan.treatment]
    notes = [f"Rehabilitation targets: {rehab.target_basis}."]
    if rehab.start_basis:
        notes.append(f"Starting stage: {rehab.start_basis}.")
    notes += [f"{p.name}: {p.advice}" for p in plan.personalisation]
    notes += plan.safety
    return {
        "resourceType": "CarePlan",
        "meta": meta,
        "status": "active",
        "intent": "plan",
        "title": f"Treatment and rehabilitation: {plan.condition_name}",
        "description": rehab.protocol_name,
        "subject": subject,
        "addresses": [condition],
        "activity": activities,
        "note": [{"text": n} for n in notes],
    }


def red_flag_urgency(item: TreatmentItem, flags: list[RedFlagHit]) -> str | None:
    """The urgency of the red flag a referral item was raised for, if any."""
    if item.urgency is not None:
        return item.urgency
    return next((f.urgency for f in flags if f.id == item.red_flag), None)


def service_request(
    item: TreatmentItem,
    flags: list[RedFlagHit],
    subject: dict[str, str],
    condition: dict[str, str],
    meta: Resource,
) -> Resource:
    """A proposed referral; red-flag referrals carry the flag's urgency as priority."""
    urgency = red_flag_urgency(item, flags)
    req: Resource = {
        "resourceType": "ServiceRequest",
        "meta": meta,
        "status": "on-hold" if item.status == "withheld" else "active",
        "intent": "proposal",
        "priority": PRIORITY.get(urgency or "", "routine"),
        "code": {"text": item.text},
        "subject": subject,
        "reasonReference": [condition],
    }
    if item.criteria:
        req["reasonCode"] = [concept(text=item.criteria)]
    if item.refer_to:
        req["performerType"] = {"text": item.refer_to}
    if item.caution:
        req["note"] = [{"text": item.caution}]
    return req
