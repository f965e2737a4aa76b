"""FHIR R4B Bundle -> a case, so that ``dxrx analyze bundle.json`` works it up like text.

The bundle is turned into the headed case text a clinician would write
("History: ... Examination: ... Imaging: ...") and read by the same ingest
stage as any text case; the structured Patient facts (sex, age) then
override what the text implies, as they do for a JSON case record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient

from dxrx.errors import InputError
from dxrx.fhir.codes import DICOM, DICOM_MODALITY, LOINC
from dxrx.fhir.narrative import (
    VOID_STATUS,
    codes,
    condition_text,
    observation_section,
    observation_text,
    report_text,
)
from dxrx.fhir.reader import parse_bundle
from dxrx.ingest import ingest_text
from dxrx.ingest.source import check_english
from dxrx.kb.loader import KnowledgeBase, load_kb
from dxrx.model import Case, Report

AGE_LOINC_CODES = frozenset({"30525-0", "21612-7"})  # Age; Age - Reported
_YEARS_PER = {"a": 1.0, "mo": 1 / 12, "wk": 7 / 365.25, "d": 1 / 365.25}
_UNIT_WORDS = {"year": "a", "years": "a", "yr": "a", "month": "mo", "months": "mo"}
_UNIT_WORDS |= {"week": "wk", "weeks": "wk", "day": "d", "days": "d"}
HEADERS = (("history", "History"), ("examination", "Examination"), ("imaging", "Imaging"))


@dataclass(frozen=True)
class BundleCase:
    """A case read from a FHIR Bundle: headed text plus the Patient's structured facts."""

    text: str
    case_id: str | None = None
    age: int | None = None
    sex: Literal["female", "male"] | None = None
    modalities: list[str] = field(default_factory=list)


def _stated_age(obs: Observation) -> int | None:
    if obs.status in VOID_STATUS or not set(codes(obs.code, LOINC)) & AGE_LOINC_CODES:
        return None
    if obs.valueInteger is not None:
        return obs.valueInteger
    q = obs.valueQuantity
    if q is None or q.value is None:
        return None
    unit = (q.code or q.unit or "a").strip().lower()
    factor = _YEARS_PER.get(_UNIT_WORDS.get(unit, unit))
    return int(float(q.value) * factor) if factor is not None else None


def _age_from_birth(birth: object, on: date) -> int | None:
    """Whole years from a (possibly partial) birth date; a missing month or day counts as 1."""
    parts = str(birth).split("-")
    try:
        y, m, d = int(parts[0]), int(parts[1]) if len(parts) > 1 else 1, 1
        if len(parts) > 2:
            d = int(parts[2][:2])
    except ValueError:
        return None
    age = on.year - y - ((on.month, on.day) < (m, d))
    return age if 0 <= age <= 130 else None


def _patient(bundle: Bundle, name: str) -> Patient | None:
    patients = [e.resource for e in bundle.entry or [] if isinstance(e.resource, Patient)]
    if len(patients) > 1:
        raise InputError(f"{name}: the FHIR Bundle has {len(patients)} Patients; give one case")
    return patients[0] if patients else None


def _keys(fullurl: str | None, resource: Any) -> set[str]:
    keys = {fullurl} if fullurl else set()
    if resource.id:
        keys.add(f"{resource.get_resource_type()}/{resource.id}")
    return keys


def _sections(bundle: Bundle) -> dict[str, list[str]]:
    """Sentences per case section, in bundle order, exact repeats dropped."""
    reported = {
        r.reference
        for e in bundle.entry or []
        if isinstance(e.resource, DiagnosticReport) and e.resource.status not in VOID_STATUS
        for r in e.resource.result or []
        if r.reference
    }
    out: dict[str, list[str]] = {key: [] for key, _ in HEADERS}
    for entry in bundle.entry or []:
        res = entry.resource
        if isinstance(res, Observation):
            if _stated_age(res) is not None:
                continue
            in_report = bool(_keys(entry.fullUrl, res) & reported)
            out[observation_section(res, in_report)] += observation_text(res)
        elif isinstance(res, Condition):
            out["history"] += condition_text(res)
        elif isinstance(res, DiagnosticReport):
            out["imaging"] += report_text(res)
    return {key: list(dict.fromkeys(s for s in chunks if s)) for key, chunks in out.items()}


def _modalities(bundle: Bundle) -> list[str]:
    found = [
        DICOM_MODALITY[code]
        for e in bundle.entry or []
        if isinstance(e.resource, DiagnosticReport) and e.resource.status not in VOID_STATUS
        for cc in [*(e.resource.category or []), e.resource.code]
        for code in codes(cc, DICOM)
        if code in DICOM_MODALITY
    ]
    return list(dict.fromkeys(found))


def case_from_bundle(data: dict[str, Any], *, name: str = "the FHIR Bundle") -> BundleCase:
    """The case a FHIR R4B Bundle describes; raises InputError for anything unusable.

    Reads Patient (gender; age from an Age Observation, LOINC 30525-0, else the
    birth date on the bundle's timestamp), Conditions and history Observations
    as history, exam-category Observations as examination, and imaging
    Observations and DiagnosticReports (conclusion, attached text report) as
    imaging. Resources dxrx itself exported are read back as the case words
    they quote, never as conclusions.
    """
    bundle = parse_bundle(data, name)
    sections = _sections(bundle)
    text = "\n\n".join(
        f"{header}: " + " ".join(sections[key]) for key, header in HEADERS if sections[key]
    )
    if not text:
        raise InputError(
            f"{name}: the FHIR Bundle has no case text: give a Condition, Observation or "
            "DiagnosticReport with words (code text, value, note, conclusion or a text report)"
        )
    check_english(text, name)
    patient = _patient(bundle, name)
    ages = [
        a
        for e in bundle.entry or []
        if isinstance(e.resource, Observation)
        for a in [_stated_age(e.resource)]
        if a is not None
    ]
    age = ages[0] if ages else None
    if age is None and patient is not None and patient.birthDate is not None:
        on = bundle.timestamp.date() if bundle.timestamp else datetime.now(UTC).date()
        age = _age_from_birth(patient.birthDate, on)
    gender = patient.gender if patient is not None else None
    case_id = bundle.id or (bundle.identifier.value if bundle.identifier else None)
    return BundleCase(
        text=text,
        case_id=case_id,
        age=age,
        sex="female" if gender == "female" else "male" if gender == "male" else None,
        modalities=_modalities(bundle),
    )


def ingest_bundle(
    data: dict[str, Any], kb: KnowledgeBase, *, name: str = "the FHIR Bundle"
) -> Case:
    """:func:`case_from_bundle` read by the text ingest stage; structured facts win."""
    return ingest_bundle_case(case_from_bundle(data, name=name), kb)


def ingest_bundle_case(found: BundleCase, kb: KnowledgeBase) -> Case:
    """A case already read from a Bundle, through the text ingest stage."""
    case = ingest_text(found.text, kb, case_id=found.case_id)
    updates: dict[str, Any] = {}
    if found.age is not None:
        updates["age"] = found.age
    if found.sex is not None:
        updates["sex"] = found.sex
    if found.modalities:
        updates["modalities"] = list(dict.fromkeys([*case.modalities, *found.modalities]))
    return case.model_copy(update=updates)


def analyze_bundle(
    data: dict[str, Any], kb: KnowledgeBase | None = None, *, name: str = "the FHIR Bundle"
) -> Report:
    """The full work-up of the case a FHIR Bundle describes."""
    from dxrx.pipeline import analyze_case

    kb = kb or load_kb()
    return analyze_case(ingest_bundle(data, kb, name=name), kb)
