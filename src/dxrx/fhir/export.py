"""Report -> FHIR R4B Bundle (collection) for EHRs and other FHIR consumers.

The Patient carries only what the case states (sex; the age goes in an
Observation, never an invented birth date). dxrx is decision support, so the
leading diagnosis is a *provisional* Condition and referrals are *proposals*.
Every resource is tagged as dxrx-derived, so that reading the bundle back
does not mistake dxrx's conclusions for facts of the case.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from dxrx.fhir.careplan import care_plan, service_request
from dxrx.fhir.codes import (
    CONDITION_CLINICAL,
    CONDITION_VERIFICATION,
    DIAGNOSTIC_SERVICE,
    DICOM,
    DXRX_TAG,
    DXRX_TAG_SYSTEM,
    ICD10,
    IMAGING_STUDY_LOINC,
    LOINC,
    MODALITY_DICOM,
    SNOMED,
    URI,
    bad_codes,
    coding,
    concept,
)
from dxrx.fhir.ids import bundle_time, bundle_uuid, fhir_id, resource_uuid, urn
from dxrx.fhir.observations import age_observation, finding_observation, key_findings
from dxrx.kb.loader import KnowledgeBase
from dxrx.model import Report

Resource = dict[str, Any]
Ref = dict[str, str]

META: Resource = {
    "tag": [coding(DXRX_TAG_SYSTEM, DXRX_TAG, "Derived by dxrx clinical decision support")]
}


def diagnosis_code(report: Report, kb: KnowledgeBase) -> Resource:
    """The leading diagnosis in ICD-10 and SNOMED CT, as the KB codes it."""
    cond = kb.conditions[report.leading.id]
    codings = [coding(ICD10, c) for c in cond.icd10] + [coding(SNOMED, c) for c in cond.snomed]
    return {"coding": codings, "text": cond.name}


def _site(report: Report) -> str | None:
    site = report.localisation.site
    if site and report.case.side:
        return f"{site} ({report.case.side})"
    return site


def _conclusion(report: Report) -> str:
    lead = report.leading
    parts = [f"{lead.name} (estimated probability {lead.score:.0%})"]
    site = _site(report)
    if site:
        parts.append(f"lesion site: {site}")
    if lead.stage:
        parts.append(f"stage: {lead.stage}")
    text = "; ".join(parts) + "."
    if report.imaging.findings:
        text += f" Imaging: {report.imaging.summary}"
    return text


def _diagnostic_report(
    report: Report, kb: KnowledgeBase, subject: Ref, results: list[Ref], issued: datetime
) -> Resource:
    imaged = bool(report.imaging.findings or report.case.modalities)
    code = (
        concept(LOINC, IMAGING_STUDY_LOINC, "Diagnostic imaging study", "dxrx imaging work-up")
        if imaged
        else concept(text="dxrx clinical work-up (no imaging)")
    )
    out: Resource = {
        "resourceType": "DiagnosticReport",
        "meta": META,
        "status": "final",
        "code": code,
        "subject": subject,
        "issued": issued,
        "conclusion": _conclusion(report),
        "conclusionCode": [diagnosis_code(report, kb)],
    }
    if imaged:
        # the modalities are facts of the case; reading the bundle back keeps them
        out["category"] = [concept(DIAGNOSTIC_SERVICE, "RAD", "Radiology")] + [
            concept(DICOM, MODALITY_DICOM[m], m)
            for m in report.case.modalities
            if m in MODALITY_DICOM
        ]
    if results:
        out["result"] = results
    return out


def _evidence_note(report: Report) -> str:
    top = report.differential[0]
    parts = []
    if top.for_:
        parts.append("Evidence for: " + "; ".join(e.statement for e in top.for_) + ".")
    if top.against:
        parts.append("Evidence against: " + "; ".join(e.statement for e in top.against) + ".")
    if report.localisation.reasoning:
        parts.append(f"Localisation: {report.localisation.reasoning}")
    return " ".join(parts) or "No evidence recorded."


def _condition(
    report: Report, kb: KnowledgeBase, subject: Ref, diagnostic: Ref, recorded: datetime
) -> Resource:
    out: Resource = {
        "resourceType": "Condition",
        "meta": META,
        "clinicalStatus": concept(CONDITION_CLINICAL, "active", "Active"),
        "verificationStatus": concept(CONDITION_VERIFICATION, "provisional", "Provisional"),
        "code": diagnosis_code(report, kb),
        "subject": subject,
        "recordedDate": recorded,
        "note": [{"text": _evidence_note(report)}, {"text": report.disclaimer}],
    }
    site = _site(report)
    if site:
        out["bodySite"] = [{"text": site}]
    if report.leading.stage:
        out["stage"] = [{"summary": {"text": report.leading.stage}, "assessment": [diagnostic]}]
    return out


def _patient(report: Report) -> Resource:
    out: Resource = {"resourceType": "Patient", "meta": META}
    if report.case.sex:
        out["gender"] = report.case.sex
    return out


def report_to_bundle(
    report: Report, kb: KnowledgeBase, *, timestamp: datetime | None = None
) -> dict[str, Any]:
    """The work-up as a JSON-ready FHIR R4B collection Bundle, validated before it is returned.

    The same report gives the same identifier and full URLs; only ``timestamp``
    (default: now, or ``SOURCE_DATE_EPOCH`` when set) varies between runs.
    """
    when = timestamp or bundle_time()
    base = bundle_uuid(report)

    def ref(role: str) -> Ref:
        return {"reference": urn(resource_uuid(base, role))}

    patient, condition, diagnostic = ref("patient"), ref("condition"), ref("diagnostic-report")
    observations = [
        (f"observation/finding/{i}", finding_observation(cat, f, kb, patient, META))
        for i, (cat, f) in enumerate(key_findings(report))
    ]
    # the report's results are its examination and imaging findings, not the symptoms
    results = [ref(role) for role, obs in observations if "category" in obs]
    entries: list[tuple[str, Resource]] = [
        ("patient", _patient(report)),
        ("condition", _condition(report, kb, patient, diagnostic, when)),
        ("diagnostic-report", _diagnostic_report(report, kb, patient, results, when)),
    ]
    if report.case.age is not None:
        entries.append(("observation/age", age_observation(report.case.age, patient, META)))
    entries += observations
    entries.append(("care-plan", care_plan(report.plan, patient, condition, META)))
    entries += [
        (f"service-request/{i}", service_request(item, report.red_flags, patient, condition, META))
        for i, item in enumerate(report.plan.referral)
    ]
    return _validated(report, base, when, entries)


def _validated(
    report: Report, base: uuid.UUID, when: datetime, entries: list[tuple[str, Resource]]
) -> dict[str, Any]:
    doc: Resource = {
        "resourceType": "Bundle",
        "identifier": {"system": URI, "value": urn(base)},
        "type": "collection",
        "timestamp": when,
        "entry": [],
    }
    case_id = fhir_id(report.case.id)
    if case_id:
        doc["id"] = case_id
    for role, resource in entries:
        rid = resource_uuid(base, role)
        doc["entry"].append({"fullUrl": urn(rid), "resource": {**resource, "id": str(rid)}})
    bad = [b for _, r in entries for b in bad_codes(r)] + bad_codes(doc)
    if bad:  # a bug here, not in the user's input
        raise ValueError("dxrx built FHIR codes outside their value sets: " + "; ".join(bad))
    dumped: dict[str, Any] = Bundle.model_validate(doc).model_dump(mode="json", exclude_none=True)
    return dumped
