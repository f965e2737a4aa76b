"""FHIR R4B out (report -> Bundle) and in (Bundle -> the same work-up as the text case)."""

from __future__ import annotations

import copy
import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from conftest import ROOT
from dxrx.errors import InputError
from dxrx.fhir import (
    analyze_bundle,
    case_from_bundle,
    ingest_bundle,
    is_fhir_bundle,
    report_to_bundle,
)
from dxrx.fhir.codes import ICD10, SNOMED, bad_codes
from dxrx.kb import KnowledgeBase
from dxrx.model import Report
from dxrx.pipeline import analyze_record, analyze_text

SEED_BUNDLE = ROOT / "tests" / "data" / "seed-bundle.json"
WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
SGN = "superior-gluteal-nerve-entrapment"
RED_FLAGS = (
    "History: Man aged 58 with two weeks of low back pain radiating to the left leg, saddle "
    "anaesthesia and new urinary retention. He has a history of prostate cancer.\n\n"
    "Examination: Weak left ankle dorsiflexion. No sensory loss in the foot."
)
GLUTEAL_ON_WARFARIN = (
    "A 58-year-old woman on warfarin for atrial fibrillation has had lateral hip pain for 4 "
    "months, worse lying on the affected side and climbing stairs. Examination: tenderness over "
    "the greater trochanter and pain on resisted abduction.\n"
    "MRI: thickening and high T2 signal of the gluteus medius tendon at the greater trochanter "
    "with a small trochanteric bursal effusion."
)
EXAM = {
    "coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "exam"}
    ]
}
PATIENT_REF = {"reference": "Patient/p"}


@pytest.fixture(scope="module")
def seed_report(kb: KnowledgeBase, seed_record: dict[str, Any]) -> Report:
    return analyze_record(seed_record, kb)


@pytest.fixture(scope="module")
def seed_fhir(seed_report: Report, kb: KnowledgeBase) -> dict[str, Any]:
    return report_to_bundle(seed_report, kb, timestamp=WHEN)


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def one(bundle: dict[str, Any], kind: str) -> dict[str, Any]:
    found = resources(bundle, kind)
    assert len(found) == 1, kind
    return found[0]


def category(obs: dict[str, Any]) -> str | None:
    cats = obs.get("category") or [{}]
    code: str | None = cats[0].get("coding", [{}])[0].get("code")
    return code


def signature(report: Report) -> list[tuple[str, float]]:
    return [(e.id, e.score) for e in report.differential]


def exam_obs(code: str, **fields: Any) -> dict[str, Any]:
    return {
        "resource": {
            "resourceType": "Observation",
            "status": "final",
            "category": [EXAM],
            "code": {"text": code},
            **fields,
        }
    }


def condition(text: str, **fields: Any) -> dict[str, Any]:
    resource = {"resourceType": "Condition", "subject": PATIENT_REF, "code": {"text": text}}
    return {"resource": {**resource, **fields}}


def bundle_of(*entries: Any, **fields: Any) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": list(entries), **fields}


# --- export -------------------------------------------------------------------------------


def test_export_is_a_valid_r4b_collection_of_the_asked_for_resources(
    seed_fhir: dict[str, Any], seed_report: Report
) -> None:
    Bundle.model_validate(seed_fhir)
    assert seed_fhir["type"] == "collection"
    assert seed_fhir["timestamp"].startswith("2024-05-01T12:00:00")
    assert seed_fhir["identifier"]["system"] == "urn:ietf:rfc:3986"
    assert seed_fhir["identifier"]["value"].startswith("urn:uuid:")
    counts = Counter(e["resource"]["resourceType"] for e in seed_fhir["entry"])
    stated = [f for f in seed_report.case.findings if f.span.section != "imaging"]
    findings = len(stated) + len(seed_report.imaging.findings)
    assert counts == {
        "Patient": 1,
        "Condition": 1,
        "DiagnosticReport": 1,
        "Observation": findings + 1,  # + the stated age
        "CarePlan": 1,
        "ServiceRequest": len(seed_report.plan.referral),
    }
    for entry in seed_fhir["entry"]:
        assert entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}"
        assert bad_codes(entry["resource"]) == []


def test_every_reference_resolves_inside_the_bundle(seed_fhir: dict[str, Any]) -> None:
    urls = {e["fullUrl"] for e in seed_fhir["entry"]}
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("reference"), str):
                refs.append(node["reference"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(seed_fhir)
    assert len(refs) > 10
    assert set(refs) <= urls


def test_leading_diagnosis_is_a_provisional_condition_coded_from_the_kb(
    seed_fhir: dict[str, Any], kb: KnowledgeBase
) -> None:
    cond_kb = kb.conditions[SGN]
    expected = [{"system": ICD10, "code": c} for c in cond_kb.icd10] + [
        {"system": SNOMED, "code": c} for c in cond_kb.snomed
    ]
    assert expected and {"system": ICD10, "code": "G57.8"} in expected
    condition = one(seed_fhir, "Condition")
    assert condition["code"]["coding"] == expected
    assert condition["code"]["text"] == cond_kb.name
    assert condition["clinicalStatus"]["coding"][0]["code"] == "active"
    assert condition["verificationStatus"]["coding"][0]["code"] == "provisional"
    assert condition["bodySite"][0]["text"] == "Superior gluteal nerve (right)"
    assert condition["stage"][0]["summary"]["text"] == "subacute"
    assert "Evidence for:" in condition["note"][0]["text"]
    assert "Tensor fasciae latae" in condition["note"][0]["text"]

    report = one(seed_fhir, "DiagnosticReport")
    assert report["status"] == "final"
    assert report["code"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "18748-4",
        "display": "Diagnostic imaging study",
    }
    assert report["conclusionCode"][0]["coding"] == expected
    assert report["conclusion"].startswith(f"{cond_kb.name} (estimated probability 99%)")
    assert "lesion site: Superior gluteal nerve" in report["conclusion"]
    categories = [c["coding"][0]["code"] for c in report["category"]]
    assert categories == ["RAD", "MR"]


def test_patient_and_observations_state_only_what_the_case_states(
    seed_fhir: dict[str, Any], seed_report: Report
) -> None:
    patient = one(seed_fhir, "Patient")
    assert patient["gender"] == "female"
    assert "birthDate" not in patient
    observations = resources(seed_fhir, "Observation")
    age = [o for o in observations if o["code"].get("coding", [{}])[0].get("code") == "30525-0"]
    assert len(age) == 1
    assert age[0]["valueQuantity"] == {
        "value": 47,
        "unit": "years",
        "system": "http://unitsofmeasure.org",
        "code": "a",
    }
    findings = [o for o in observations if o not in age]
    for obs in findings:
        assert obs["status"] == "final"
        assert obs["note"][0]["text"] in seed_report.case.text  # the words it was read from
        assert obs["valueBoolean"] is True  # the seed case states no negatives
        assert obs["interpretation"][0]["coding"][0]["code"] == "POS"
    by_label = {o["code"]["text"]: o for o in findings}
    weak = by_label["weakness of hip abduction in right hip"]
    assert category(weak) == "exam"
    assert weak["note"][0]["text"] == "On examination the right hip is weak in abduction."
    stir = next(o for label, o in by_label.items() if label.startswith("increased signal"))
    assert category(stir) == "imaging"
    assert stir["bodySite"]["text"] == "right Tensor fasciae latae, Gluteus medius, Gluteus minimus"
    assert stir["method"]["text"] == "MR STIR"
    imaging = [o for o in findings if category(o) == "imaging"]
    assert len(imaging) == len(seed_report.imaging.findings)
    # the report's results are the examination and imaging findings, not the symptoms
    results = {r["reference"] for r in one(seed_fhir, "DiagnosticReport")["result"]}
    urls = {e["resource"]["id"]: e["fullUrl"] for e in seed_fhir["entry"]}
    assert results == {urls[o["id"]] for o in findings if "category" in o}
    assert any("category" not in o for o in findings)  # symptoms are there too


def test_negative_and_uncertain_findings_are_marked_so(kb: KnowledgeBase) -> None:
    report = analyze_text(
        "Woman aged 40 with left foot drop for a week after sitting cross-legged.\n"
        "Examination: weak ankle dorsiflexion. No sensory loss over the foot. "
        "Possible weakness of ankle eversion.",
        kb,
    )
    by_label = {
        o["code"]["text"]: o for o in resources(report_to_bundle(report, kb), "Observation")
    }
    negative = by_label["no numbness in foot"]
    assert negative["valueBoolean"] is False
    assert negative["interpretation"][0]["coding"][0]["code"] == "NEG"
    assert negative["note"][0]["text"] == "No sensory loss over the foot."
    possible = by_label["possible weakness of foot eversion in ankle"]
    assert "valueBoolean" not in possible
    assert possible["interpretation"][0]["coding"][0]["code"] == "IND"


def test_care_plan_has_one_activity_per_stage_then_the_treatment(
    seed_fhir: dict[str, Any], seed_report: Report
) -> None:
    plan = one(seed_fhir, "CarePlan")
    assert (plan["status"], plan["intent"]) == ("active", "plan")
    condition_url = next(
        e["fullUrl"] for e in seed_fhir["entry"] if e["resource"]["resourceType"] == "Condition"
    )
    assert plan["addresses"] == [{"reference": condition_url}]
    stages = seed_report.plan.rehabilitation.stages
    treatment = seed_report.plan.treatment
    details = [a["detail"] for a in plan["activity"]]
    assert len(details) == len(stages) + len(treatment)
    for stage, detail in zip(stages, details, strict=False):
        assert detail["code"]["text"].endswith(stage.name)
        assert detail["status"] == ("in-progress" if stage.current else "not-started")
        assert f"frequency {stage.fitt_vp.frequency}" in detail["description"]
        assert f"progression {stage.fitt_vp.progression}" in detail["description"]
        for ex in stage.exercises:
            assert f"{ex.name} ({ex.dosage})" in detail["description"]
    assert details[0]["status"] == "in-progress"  # the seed starts in the first stage
    for item, detail in zip(treatment, details[len(stages) :], strict=True):
        assert detail["description"].startswith(item.text)
        assert detail["status"] == "not-started"


def test_referrals_are_proposals_with_red_flag_priority(kb: KnowledgeBase) -> None:
    report = analyze_text(RED_FLAGS, kb)
    assert {f.id: f.urgency for f in report.red_flags} == {
        "cauda-equina": "emergency",
        "malignancy": "urgent",
    }
    doc = report_to_bundle(report, kb, timestamp=WHEN)
    requests = resources(doc, "ServiceRequest")
    assert len(requests) == len(report.plan.referral) >= 3
    condition_url = next(
        e["fullUrl"] for e in doc["entry"] if e["resource"]["resourceType"] == "Condition"
    )
    priority = {r["code"]["text"].split(":")[0]: r["priority"] for r in requests}
    assert priority["Red flag — Possible cauda equina syndrome"] == "stat"
    assert priority["Red flag — Possible malignancy"] == "urgent"
    others = [r for r in requests if not r["code"]["text"].startswith("Red flag")]
    assert others and all(r["priority"] == "routine" for r in others)
    for req in requests:
        assert (req["status"], req["intent"]) == ("active", "proposal")
        assert req["reasonReference"] == [{"reference": condition_url}]
    # the symptoms the flags rest on are in the bundle
    labels = " ".join(o["code"].get("text", "") for o in resources(doc, "Observation"))
    assert "saddle" in labels


def test_withheld_steps_are_on_hold_and_passed_stages_cancelled(kb: KnowledgeBase) -> None:
    report = analyze_text(GLUTEAL_ON_WARFARIN, kb)
    assert report.leading.id == "gluteal-tendinopathy"
    stages = report.plan.rehabilitation.stages
    current = next(i for i, s in enumerate(stages) if s.current)
    assert current == 1  # four months: the chronic stage, past the first
    details = [a["detail"] for a in one(report_to_bundle(report, kb), "CarePlan")["activity"]]
    assert [d["status"] for d in details[: len(stages)]] == [
        "cancelled",
        "in-progress",
        *["not-started"] * (len(stages) - 2),
    ]
    assert details[0]["statusReason"]["text"].startswith("Passed over: the patient starts at")
    injection = next(d for d in details if d["code"]["text"] == "Injection")
    assert injection["status"] == "on-hold"
    assert "anticoagulant" in injection["statusReason"]["text"]


def test_export_is_deterministic(seed_report: Report, kb: KnowledgeBase) -> None:
    a = report_to_bundle(seed_report, kb, timestamp=WHEN)
    b = report_to_bundle(seed_report, kb, timestamp=datetime(2030, 1, 1, tzinfo=UTC))
    assert a["identifier"] == b["identifier"]
    assert [e["fullUrl"] for e in a["entry"]] == [e["fullUrl"] for e in b["entry"]]
    assert a == report_to_bundle(seed_report, kb, timestamp=WHEN)
    assert len({e["fullUrl"] for e in a["entry"]}) == len(a["entry"])
    other = analyze_text(seed_report.case.text + " She is a keen runner.", kb)
    assert report_to_bundle(other, kb)["identifier"] != a["identifier"]
    new_kb = seed_report.model_copy(update={"kb_version": "0.0.0+other"})
    assert report_to_bundle(new_kb, kb)["identifier"] != a["identifier"]


def test_source_date_epoch_fixes_the_timestamp(
    seed_report: Report, kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    doc = report_to_bundle(seed_report, kb)
    assert doc["timestamp"].startswith("2023-11-14T22:13:20")
    assert doc == report_to_bundle(seed_report, kb)


def test_round_trip_through_json_and_r4b(seed_fhir: dict[str, Any]) -> None:
    text = json.dumps(seed_fhir)
    parsed = Bundle.model_validate_json(text)
    assert parsed.model_dump(mode="json", exclude_none=True) == seed_fhir
    entries = parsed.entry or []
    assert [e.resource.get_resource_type() for e in entries if e.resource] == [
        e["resource"]["resourceType"] for e in seed_fhir["entry"]
    ]


def test_value_set_check_catches_what_fhir_resources_lets_through() -> None:
    bogus = {"resourceType": "Observation", "status": "done", "code": {"text": "x"}}
    Bundle.model_validate(bundle_of({"resource": bogus}))  # the library accepts it
    assert bad_codes(bogus) and "Observation.status 'done'" in bad_codes(bogus)[0]
    with pytest.raises(InputError, match=r"Observation\.status 'done'"):
        case_from_bundle(bundle_of({"resource": bogus}))


# --- import -------------------------------------------------------------------------------


def test_seed_bundle_gives_the_same_work_up_as_the_seed_case(
    kb: KnowledgeBase, seed_report: Report
) -> None:
    data = json.loads(SEED_BUNDLE.read_text(encoding="utf-8"))
    assert is_fhir_bundle(data)
    Bundle.model_validate(data)
    report = analyze_bundle(data, kb)
    assert signature(report) == signature(seed_report)
    assert report.leading == seed_report.leading
    assert report.leading.id == SGN
    assert report.localisation.site == seed_report.localisation.site
    assert report.imaging.stage == seed_report.imaging.stage == "subacute"
    case = report.case
    assert (case.id, case.age, case.sex, case.side) == ("eurorad-16251", 47, "female", "right")
    assert case.modalities == seed_report.case.modalities == ["MR"]
    assert [s.name for s in case.sections] == ["history", "examination", "imaging"]


def test_exported_bundle_reads_back_to_the_same_work_up(
    seed_fhir: dict[str, Any], seed_report: Report, kb: KnowledgeBase
) -> None:
    found = case_from_bundle(seed_fhir)
    # dxrx's own conclusions are not read back as facts of the case
    assert "estimated probability" not in found.text
    assert "Superior gluteal nerve entrapment" not in found.text
    assert "On examination the right hip is weak in abduction." in found.text
    assert signature(analyze_bundle(seed_fhir, kb)) == signature(seed_report)


def test_coded_observations_and_conditions_read_as_clinical_sentences(kb: KnowledgeBase) -> None:
    refuted = {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                "code": "refuted",
            }
        ]
    }
    resolved = {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                "code": "resolved",
            }
        ]
    }
    data = bundle_of(
        {"resource": {"resourceType": "Patient", "gender": "male", "birthDate": "1970-07-15"}},
        condition("Lateral hip pain", note=[{"text": "Pain for six weeks after a fall"}]),
        condition("Lumbar disc herniation", clinicalStatus=resolved),
        condition("Diabetes", verificationStatus=refuted),
        exam_obs("Trendelenburg sign", valueBoolean=True),
        exam_obs("Sensory loss", valueBoolean=False, bodySite={"text": "lateral thigh"}),
        exam_obs("Hip abduction strength", valueString="MRC 3/5", bodySite={"text": "right hip"}),
        exam_obs("Foot drop", status="entered-in-error", valueBoolean=True),
        timestamp="2024-06-01T00:00:00Z",
    )
    found = case_from_bundle(data)
    assert found.text == (
        "History: Lateral hip pain. Pain for six weeks after a fall. "
        "Previous lumbar disc herniation, resolved.\n\n"
        "Examination: Trendelenburg sign: present. No sensory loss, lateral thigh. "
        "Hip abduction strength, right hip: MRC 3/5."
    )
    assert (found.age, found.sex) == (53, "male")  # birth date on the bundle's timestamp
    case = ingest_bundle(data, kb)
    stated = {(f.concept, f.negated) for f in case.findings}
    assert {("trendelenburg-sign", False), ("numbness", True), ("weakness", False)} <= stated
    assert ("disc-herniation", True) in stated
    assert not any(f.concept == "foot-drop" for f in case.findings)
    assert next(f for f in case.findings if f.concept == "weakness").side == "right"


def test_age_observation_wins_over_birth_date() -> None:
    age = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "30525-0"}]},
        "valueQuantity": {"value": 30, "unit": "a"},
    }
    data = bundle_of(
        {"resource": {"resourceType": "Patient", "birthDate": "1950"}},
        {"resource": age},
        condition("Hip pain for two weeks"),
        timestamp="2024-06-01T00:00:00Z",
    )
    assert case_from_bundle(data).age == 30
    data["entry"].pop(1)
    assert case_from_bundle(data).age == 74  # a year alone counts from 1 January


def _invalid() -> list[tuple[Any, str]]:
    good = json.loads(SEED_BUNDLE.read_text(encoding="utf-8"))
    no_status = copy.deepcopy(good)
    del no_status["entry"][1]["resource"]["status"]
    unknown = copy.deepcopy(good)
    unknown["entry"][0]["resource"]["resourceType"] = "Wizard"
    bad_gender = copy.deepcopy(good)
    bad_gender["entry"][0]["resource"]["gender"] = "f"
    two_patients = copy.deepcopy(good)
    two_patients["entry"].append(copy.deepcopy(good["entry"][0]))
    only_patient = bundle_of({"resource": {"resourceType": "Patient", "gender": "female"}})
    return [
        (["not", "an", "object"], "must be a JSON object, not list"),
        ("Bundle", "must be a JSON object, not str"),
        ({"resourceType": "Patient", "gender": "female"}, "got resourceType 'Patient'"),
        ({"type": "collection", "entry": []}, "got no resourceType"),
        ({"resourceType": "Bundle", "entry": []}, "not a valid FHIR R4B Bundle: type"),
        (bundle_of(), "no resources"),
        ({"resourceType": "Bundle", "type": "collection"}, "no resources"),
        (bundle_of("text"), "entry 0 is not a JSON object"),
        ({"resourceType": "Bundle", "type": "collection", "entry": {}}, "must be a list"),
        (bundle_of({"resource": {"status": "final"}}), "has no 'resourceType'"),
        (no_status, "entry.1.resource.status"),
        (unknown, "'Wizard' is not a FHIR R4B resource type"),
        (bad_gender, "Patient.gender 'f'"),
        (two_patients, "2 Patients"),
        (only_patient, "no case text"),
        (bundle_of(condition("Douleur de la fesse droite depuis trois mois")), "English"),
    ]


@pytest.mark.parametrize(("data", "words"), _invalid())
def test_invalid_fhir_raises_one_clear_input_error(data: Any, words: str) -> None:
    with pytest.raises(InputError) as info:
        case_from_bundle(data, name="case.json")
    message = str(info.value)
    assert message.startswith("case.json")
    assert words in message
    assert "\n" not in message and "Traceback" not in message


def test_bundle_detection() -> None:
    assert is_fhir_bundle({"resourceType": "Bundle"})
    assert not is_fhir_bundle({"resourceType": "Patient"})
    assert not is_fhir_bundle({"history": "Buttock pain."})
    assert not is_fhir_bundle(["Bundle"])
