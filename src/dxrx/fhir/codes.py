"""Code systems, codes and the R4B value sets dxrx reads or writes.

fhir.resources validates structure but not value sets (a bogus ``status``
passes), so the required-binding codes are listed here and checked by
:func:`bad_codes` on the way out and on the way in.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
UCUM = "http://unitsofmeasure.org"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
URI = "urn:ietf:rfc:3986"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
DIAGNOSTIC_SERVICE = "http://terminology.hl7.org/CodeSystem/v2-0074"
# Tags what dxrx derived, so that reading such a bundle back does not take
# dxrx's own conclusions for facts of the case.
DXRX_TAG_SYSTEM = "urn:dxrx:fhir"
DXRX_TAG = "decision-support"

AGE_LOINC = "30525-0"
IMAGING_STUDY_LOINC = "18748-4"

# LOINC narrative codes whose value is case text, and the section it belongs to.
NARRATIVE_LOINC = {
    "10154-3": "history",  # Chief complaint Narrative
    "10164-2": "history",  # History of Present illness Narrative
    "11348-0": "history",  # History of Past illness Narrative
    "29545-1": "examination",  # Physical findings Narrative
    "18782-3": "imaging",  # Radiology Study observation (narrative)
    "19005-8": "imaging",  # Radiology Imaging study [Impression] (narrative)
}

# DICOM modality codes <-> dxrx modality names (ingest/rules.yaml); EMG has no DICOM code.
DICOM_MODALITY = {
    "MR": "MR",
    "CT": "CT",
    "US": "US",
    "NM": "NM",
    "PT": "PET",
    "DX": "XR",
    "CR": "XR",
    "RG": "XR",
}
MODALITY_DICOM = {"MR": "MR", "CT": "CT", "US": "US", "NM": "NM", "PET": "PT", "XR": "DX"}

REQUEST_STATUS = frozenset(
    {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"}
)
VALUE_SETS: dict[tuple[str, str], frozenset[str]] = {
    ("Bundle", "type"): frozenset(
        {
            "document",
            "message",
            "transaction",
            "transaction-response",
            "batch",
            "batch-response",
            "history",
            "searchset",
            "collection",
        }
    ),
    ("Patient", "gender"): frozenset({"male", "female", "other", "unknown"}),
    ("Observation", "status"): frozenset(
        {
            "registered",
            "preliminary",
            "final",
            "amended",
            "corrected",
            "cancelled",
            "entered-in-error",
            "unknown",
        }
    ),
    ("DiagnosticReport", "status"): frozenset(
        {
            "registered",
            "partial",
            "preliminary",
            "final",
            "amended",
            "corrected",
            "appended",
            "cancelled",
            "entered-in-error",
            "unknown",
        }
    ),
    ("Condition", "clinicalStatus"): frozenset(
        {"active", "recurrence", "relapse", "inactive", "remission", "resolved"}
    ),
    ("Condition", "verificationStatus"): frozenset(
        {"unconfirmed", "provisional", "differential", "confirmed", "refuted", "entered-in-error"}
    ),
    ("CarePlan", "status"): REQUEST_STATUS,
    ("CarePlan", "intent"): frozenset({"proposal", "plan", "order", "option", "directive"}),
    ("CarePlan", "activity.detail.status"): frozenset(
        {
            "not-started",
            "scheduled",
            "in-progress",
            "on-hold",
            "completed",
            "cancelled",
            "stopped",
            "unknown",
            "entered-in-error",
        }
    ),
    ("ServiceRequest", "status"): REQUEST_STATUS,
    ("ServiceRequest", "intent"): frozenset(
        {
            "proposal",
            "plan",
            "directive",
            "order",
            "original-order",
            "reflex-order",
            "filler-order",
            "instance-order",
            "option",
        }
    ),
    ("ServiceRequest", "priority"): frozenset({"routine", "urgent", "asap", "stat"}),
}
# CodeableConcept-valued statuses: the coding system their codes must come from.
CONCEPT_SYSTEMS = {
    ("Condition", "clinicalStatus"): CONDITION_CLINICAL,
    ("Condition", "verificationStatus"): CONDITION_VERIFICATION,
}


def coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def concept(
    system: str | None = None, code: str | None = None, display: str | None = None, text: str = ""
) -> dict[str, Any]:
    """A CodeableConcept with one coding (when ``system`` and ``code`` are given) and/or text."""
    out: dict[str, Any] = {}
    if system and code:
        out["coding"] = [coding(system, code, display)]
    if text:
        out["text"] = text
    return out


def _values(node: Any, path: list[str]) -> Iterator[Any]:
    if not path:
        yield node
        return
    if isinstance(node, list):
        for item in node:
            yield from _values(item, path)
    elif isinstance(node, dict) and path[0] in node:
        yield from _values(node[path[0]], path[1:])


def status_codes(resource: dict[str, Any], field: str) -> list[str]:
    """The codes of one value-set-bound field of a resource, whether code or CodeableConcept."""
    kind = resource.get("resourceType", "")
    system = CONCEPT_SYSTEMS.get((kind, field))
    out: list[str] = []
    for value in _values(resource, field.split(".")):
        if system is None:
            out.append(value if isinstance(value, str) else repr(value))
            continue
        for c in value.get("coding", []) if isinstance(value, dict) else []:
            if isinstance(c, dict) and c.get("system") == system:
                out.append(str(c.get("code")))
    return out


def bad_codes(resource: dict[str, Any]) -> list[str]:
    """'Field: code' for each bound code of ``resource`` outside its R4B value set."""
    kind = resource.get("resourceType", "")
    out = []
    for (rtype, field), allowed in VALUE_SETS.items():
        if rtype != kind:
            continue
        for code in status_codes(resource, field):
            if code not in allowed:
                out.append(f"{kind}.{field} {code!r} (allowed: {', '.join(sorted(allowed))})")
    return out
