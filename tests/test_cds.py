"""CDS Hooks 2.0: discovery, a patient-view call with prefetch, and bad requests."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import ROOT
from web_support import as_prefetch, make_client

SERVICE = "/cds-services/dxrx-msk-workup"
SEED_BUNDLE = ROOT / "tests" / "data" / "seed-bundle.json"
CAUDA_EQUINA = (
    "Man aged 58 with two weeks of low back pain radiating to the left leg, saddle anaesthesia "
    "and new urinary retention. He has a history of prostate cancer. Examination: weak left "
    "ankle dorsiflexion."
)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with make_client(tmp_path, public_url="https://dxrx.example.org") as c:
        yield c


def hook_request(prefetch: dict[str, Any] | None, patient: str = "p1") -> dict[str, Any]:
    doc: dict[str, Any] = {
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "hook": "patient-view",
        "fhirServer": "https://ehr.example.org/fhir",
        "context": {"userId": "Practitioner/123", "patientId": patient},
    }
    if prefetch is not None:
        doc["prefetch"] = prefetch
    return doc


def seed_prefetch() -> dict[str, Any]:
    return as_prefetch(json.loads(SEED_BUNDLE.read_text(encoding="utf-8")))


def test_discovery(client: TestClient) -> None:
    resp = client.get("/cds-services")
    assert resp.status_code == 200
    services = resp.json()["services"]
    assert len(services) == 1
    svc = services[0]
    assert svc["hook"] == "patient-view" and svc["id"] == "dxrx-msk-workup"
    assert svc["title"] and svc["description"]
    templates = svc["prefetch"]
    assert templates["patient"] == "Patient/{{context.patientId}}"
    for kind in ("Condition", "Observation", "DiagnosticReport"):
        assert any(
            t.startswith(f"{kind}?patient={{{{context.patientId}}}}") for t in templates.values()
        )


def test_seed_case_names_superior_gluteal_nerve_entrapment(client: TestClient) -> None:
    resp = client.post(SERVICE, json=hook_request(seed_prefetch()))
    assert resp.status_code == 200, resp.text
    cards = resp.json()["cards"]
    lead, link = cards[0], cards[-1]
    assert "superior gluteal nerve entrapment" in lead["summary"].lower()
    assert lead["indicator"] == "info"
    assert "STIR shows increased signal" in lead["detail"]  # evidence quotes the chart
    assert lead["source"]["label"] == "dxrx"
    for card in cards:
        assert len(card["summary"]) <= 140
        assert card["indicator"] in ("info", "warning", "critical")
        assert card["source"]["label"] == "dxrx"
    (url,) = [lnk["url"] for lnk in link["links"]]
    assert link["links"][0]["type"] == "absolute"
    assert url.startswith("https://dxrx.example.org/analyses/")
    # the analysis behind the cards is stored and can be fetched
    aid = url.rsplit("/", 1)[1]
    stored = client.get(f"/v1/analyses/{aid}").json()
    assert stored["input_format"] == "fhir"
    assert stored["leading_id"] == "superior-gluteal-nerve-entrapment"


def test_link_uses_request_base_url_without_public_url(tmp_path: Path) -> None:
    with make_client(tmp_path) as c:
        cards = c.post(SERVICE, json=hook_request(seed_prefetch())).json()["cards"]
    assert cards[-1]["links"][0]["url"].startswith("http://testserver/analyses/")


def test_red_flags_get_their_own_cards(client: TestClient) -> None:
    prefetch = {
        "patient": {"resourceType": "Patient", "id": "p1", "gender": "male"},
        "conditions": {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [
                {
                    "resource": {
                        "resourceType": "Condition",
                        "id": "c1",
                        "subject": {"reference": "Patient/p1"},
                        "code": {"text": "Low back pain with sciatica"},
                        "note": [{"text": CAUDA_EQUINA}],
                    }
                }
            ],
        },
        "observations": None,
    }
    resp = client.post(SERVICE, json=hook_request(prefetch))
    assert resp.status_code == 200, resp.text
    flags = [c for c in resp.json()["cards"] if c["summary"].startswith("Red flag")]
    assert any("cauda equina" in c["summary"].lower() for c in flags)
    cauda = next(c for c in flags if "cauda equina" in c["summary"].lower())
    assert cauda["indicator"] == "critical"  # an emergency
    assert all(c["indicator"] in ("warning", "critical") for c in flags)


def test_chart_without_case_text_gets_no_cards(client: TestClient) -> None:
    prefetch = {"patient": {"resourceType": "Patient", "id": "p1", "gender": "female"}}
    resp = client.post(SERVICE, json=hook_request(prefetch))
    assert resp.status_code == 200 and resp.json() == {"cards": []}


def _bad_requests() -> list[tuple[str, Any]]:
    good = hook_request(seed_prefetch())
    wrong_hook = {**good, "hook": "order-select"}
    no_instance = {k: v for k, v in good.items() if k != "hookInstance"}
    no_patient = {**good, "context": {"userId": "Practitioner/1"}}
    other_patient = hook_request(seed_prefetch(), patient="someone-else")
    mixed = copy.deepcopy(good)
    mixed["prefetch"]["conditions"]["entry"][0]["resource"]["subject"] = {"reference": "Patient/p2"}
    bad_resource = copy.deepcopy(good)
    bad_resource["prefetch"]["observations"]["entry"][0]["resource"]["status"] = 17
    return [
        ("wrong hook", wrong_hook),
        ("no hookInstance", no_instance),
        ("no patientId", no_patient),
        ("Patient is not the context's", other_patient),
        ("resource of another patient", mixed),
        ("invalid FHIR", bad_resource),
        ("context not an object", {**good, "context": "p1"}),
        ("prefetch not an object", {**good, "prefetch": ["x"]}),
        ("prefetch value not a resource", {**good, "prefetch": {"patient": "Patient/p1"}}),
        ("resource without type", {**good, "prefetch": {"patient": {"id": "p1"}}}),
    ]


@pytest.mark.parametrize(("why", "doc"), _bad_requests(), ids=[w for w, _ in _bad_requests()])
def test_bad_requests_are_400(client: TestClient, why: str, doc: Any) -> None:
    resp = client.post(SERVICE, json=doc)
    assert resp.status_code == 400, (why, resp.text)
    assert set(resp.json()) == {"error", "detail"}


@pytest.mark.parametrize(
    ("content", "ctype", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"[]", "application/json", 400),
        (b"", "application/json", 400),
        (b"hook=patient-view", "application/x-www-form-urlencoded", 415),
    ],
)
def test_malformed_bodies(client: TestClient, content: bytes, ctype: str, status: int) -> None:
    resp = client.post(SERVICE, content=content, headers={"content-type": ctype})
    assert resp.status_code == status
    assert set(resp.json()) == {"error", "detail"}


def test_missing_prefetch_is_412(client: TestClient) -> None:
    assert client.post(SERVICE, json=hook_request(None)).status_code == 412
    empty = hook_request({"patient": None, "conditions": None})
    assert client.post(SERVICE, json=empty).status_code == 412


def test_unknown_service_is_404(client: TestClient) -> None:
    resp = client.post("/cds-services/not-a-service", json=hook_request(seed_prefetch()))
    assert resp.status_code == 404
