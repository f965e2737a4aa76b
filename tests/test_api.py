"""REST API v1 through FastAPI's TestClient: every input shape, every listing, every 4xx."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from conftest import ROOT, needs_pdf
from web_support import make_client

SGN = "superior-gluteal-nerve-entrapment"
SEED_BUNDLE = ROOT / "tests" / "data" / "seed-bundle.json"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with make_client(tmp_path) as c:
        yield c


def seed_text(record: dict[str, Any]) -> str:
    return f"History: {record['history']}\n\nImaging: {record['imaging']}"


def assert_error(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = resp.json()
    assert set(body) == {"error", "detail"} and body["error"]
    assert "Traceback" not in resp.text
    return body


def test_analyze_case_record_stores_it(client: TestClient, seed_record: dict[str, Any]) -> None:
    resp = client.post("/v1/analyze", json=seed_record)
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == {"id", "report"}
    assert body["report"]["leading"]["id"] == SGN
    assert body["report"]["differential"][0]["for"]  # the contract's alias, not "for_"
    assert resp.headers["location"] == f"/v1/analyses/{body['id']}"
    got = client.get(f"/v1/analyses/{body['id']}").json()
    assert got["input_format"] == "case"
    assert json.loads(got["input_text"]) == seed_record
    assert got["report"] == body["report"]
    assert got["leading_id"] == SGN and got["kb_version"] == body["report"]["kb_version"]
    assert got["created_at"].endswith(("+00:00", "Z"))


@pytest.mark.parametrize("how", ["text/plain", "json-text"])
def test_analyze_free_text(client: TestClient, seed_record: dict[str, Any], how: str) -> None:
    text = seed_text(seed_record)
    if how == "text/plain":
        resp = client.post(
            "/v1/analyze", content=text.encode(), headers={"content-type": "text/plain"}
        )
    else:
        resp = client.post("/v1/analyze", json={"text": text})
    assert resp.status_code == 200, resp.text
    assert resp.json()["report"]["leading"]["id"] == SGN
    stored = client.get(f"/v1/analyses/{resp.json()['id']}").json()
    assert stored["input_format"] == "text" and stored["input_text"] == text


@pytest.mark.parametrize("ctype", ["application/json", "application/fhir+json"])
def test_analyze_fhir_bundle(client: TestClient, ctype: str) -> None:
    resp = client.post(
        "/v1/analyze", content=SEED_BUNDLE.read_bytes(), headers={"content-type": ctype}
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["report"]["leading"]["id"] == SGN
    assert client.get(f"/v1/analyses/{resp.json()['id']}").json()["input_format"] == "fhir"


def test_list_paginates_and_searches(client: TestClient, seed_record: dict[str, Any]) -> None:
    knee = "Runner aged 30 with lateral knee pain, tender over the lateral femoral epicondyle."
    ids = [client.post("/v1/analyze", json=seed_record).json()["id"] for _ in range(3)]
    knee_id = client.post("/v1/analyze", json={"text": knee}).json()["id"]
    page = client.get("/v1/analyses", params={"limit": 2}).json()
    assert page["total"] == 4 and page["offset"] == 0 and page["limit"] == 2
    assert [i["id"] for i in page["items"]] == [knee_id, ids[2]]
    assert "input_text" not in page["items"][0] and "report" not in page["items"][0]
    rest = client.get("/v1/analyses", params={"offset": 2, "limit": 2}).json()
    assert [i["id"] for i in rest["items"]] == [ids[1], ids[0]]
    found = client.get("/v1/analyses", params={"q": "femoral EPICONDYLE"}).json()
    assert found["total"] == 1 and found["items"][0]["id"] == knee_id
    by_dx = client.get("/v1/analyses", params={"q": "superior gluteal"}).json()
    assert by_dx["total"] == 3
    assert client.get("/v1/analyses", params={"q": "no such words"}).json()["items"] == []


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"limit": "ten"}, {"q": "x" * 201}]
)
def test_list_rejects_bad_parameters(client: TestClient, params: dict[str, Any]) -> None:
    body = assert_error(client.get("/v1/analyses", params=params), 422)
    assert body["error"] == "invalid request"


@needs_pdf
def test_report_downloads(client: TestClient, seed_record: dict[str, Any]) -> None:
    aid = client.post("/v1/analyze", json=seed_record).json()["id"]
    expected = {
        "md": "text/markdown",
        "html": "text/html",
        "pdf": "application/pdf",
        "fhir": "application/fhir+json",
        "json": "application/json",
    }
    for fmt, mime in expected.items():
        resp = client.get(f"/v1/analyses/{aid}/report.{fmt}")
        assert resp.status_code == 200, (fmt, resp.text[:200])
        assert resp.headers["content-type"].startswith(mime)
        assert f"dxrx-{aid}." in resp.headers["content-disposition"]
    md = client.get(f"/v1/analyses/{aid}/report.md").text
    assert "Superior gluteal nerve" in md
    assert client.get(f"/v1/analyses/{aid}/report.json").json()["leading"]["id"] == SGN
    assert client.get(f"/v1/analyses/{aid}/report.fhir").json()["resourceType"] == "Bundle"
    pdf = client.get(f"/v1/analyses/{aid}/report.pdf").content
    assert pdf.startswith(b"%PDF")
    import io

    assert "gluteal" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text().lower()
    assert_error(client.get(f"/v1/analyses/{aid}/report.docx"), 404)
    assert_error(client.get("/v1/analyses/unknown-id/report.md"), 404)


def test_grade_matches_the_cli_json(client: TestClient, seed_record: dict[str, Any]) -> None:
    from dxrx.grade import grade
    from dxrx.kb import load_kb

    workup = (
        "Most likely superior gluteal nerve entrapment: denervation oedema of gluteus medius, "
        "gluteus minimus and tensor fasciae latae. Start hip abductor strengthening."
    )
    resp = client.post("/v1/grade", json={"workup": workup, "case": seed_record})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["diagnosis"]["correct"] is True
    assert body == grade(workup, seed_record, load_kb()).model_dump(mode="json")
    report = client.post("/v1/analyze", json=seed_record).json()["report"]
    graded = client.post("/v1/grade", json={"workup": report, "case": seed_record}).json()
    assert graded["diagnosis"]["correct"] is True and graded["score"] > 0.5


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"workup": "Gluteal nerve entrapment.", "case": {"history": "hip pain"}}, 400),
        ({"workup": "", "case": {"history": "x", "final_diagnosis": "y"}}, 400),
        ({"workup": {"not": "a report"}, "case": {"history": "x", "final_diagnosis": "y"}}, 400),
        ({"workup": "Gluteal nerve entrapment."}, 422),
        ({"workup": 5, "case": {}}, 422),
    ],
)
def test_grade_rejects_bad_input(client: TestClient, body: dict[str, Any], status: int) -> None:
    assert_error(client.post("/v1/grade", json=body), status)


def test_conditions(client: TestClient) -> None:
    listing = client.get("/v1/conditions").json()
    assert listing["total"] == len(listing["items"]) > 100
    assert set(listing["items"][0]) == {"id", "name", "category", "icd10"}
    found = client.get("/v1/conditions", params={"q": "superior gluteal"}).json()
    assert SGN in [c["id"] for c in found["items"]]
    assert all(
        "superior gluteal" in (c["name"] + c["id"].replace("-", " ")).lower() or c["icd10"]
        for c in found["items"]
    )
    by_code = client.get("/v1/conditions", params={"q": "g57.8"}).json()
    assert SGN in [c["id"] for c in by_code["items"]]
    one = client.get(f"/v1/conditions/{SGN}").json()
    assert one["condition"]["id"] == SGN and one["condition"]["treatment"]
    cited = set(one["condition"]["refs"])
    assert cited <= {r["id"] for r in one["references"]}
    assert all(r["citation"] for r in one["references"])
    assert_error(client.get("/v1/conditions/not-a-condition"), 404)


def test_healthz(client: TestClient) -> None:
    from dxrx import __version__
    from dxrx.kb import load_kb

    body = client.get("/healthz").json()
    assert body == {
        "status": "ok",
        "kb_version": load_kb().version,
        "dxrx_version": __version__,
        "database": "ok",
    }


@pytest.mark.parametrize(
    ("content", "ctype", "status"),
    [
        (b"", "application/json", 400),
        (b"   \n", "text/plain", 400),
        (b"{not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'{"history": ""}', "application/json", 400),
        (b'{"history": "hip pain", "sex": "other"}', "application/json", 400),
        (b'{"resourceType": "Patient"}', "application/json", 400),
        (
            b'{"resourceType": "Bundle", "type": "collection", "entry": "x"}',
            "application/json",
            400,
        ),
        (b'{"text": 5}', "application/json", 400),
        (b"\xff\xfe\x00binary", "text/plain", 400),
        (b"\xc3\x28 invalid utf-8", "text/plain", 400),
        ("这是一个中文病例，患者右髋疼痛三个月。".encode(), "text/plain", 400),
        (b"hip pain", "image/png", 415),
        (b"hip pain", "", 415),
        (b"<case>hip pain</case>", "application/xml", 415),
    ],
)
def test_analyze_bad_input_is_4xx(
    client: TestClient, content: bytes, ctype: str, status: int
) -> None:
    headers = {"content-type": ctype} if ctype else {}
    assert_error(client.post("/v1/analyze", content=content, headers=headers), status)


def test_huge_body_is_413(client: TestClient) -> None:
    big = b"hip pain " * 200_000  # 1.8 MB
    body = assert_error(
        client.post("/v1/analyze", content=big, headers={"content-type": "text/plain"}), 413
    )
    assert "1000000 bytes" in body["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit applies as it streams
        for _ in range(20):
            yield b"x" * 100_000

    streamed = client.post("/v1/analyze", content=chunks(), headers={"content-type": "text/plain"})
    assert_error(streamed, 413)


def test_case_text_over_the_limit_is_413(client: TestClient, seed_record: dict[str, Any]) -> None:
    """A long case without sentence breaks would cost the pipeline minutes and gigabytes."""
    long_case = {**seed_record, "history": "pain " * 50_000}
    body = assert_error(client.post("/v1/analyze", json=long_case), 413)
    assert "20000" in body["detail"]
    text = {"text": "Hip pain. " * 2_001}
    assert_error(client.post("/v1/analyze", json=text), 413)
    grade = {"workup": "Gluteal nerve entrapment. " * 1_000, "case": seed_record}
    assert_error(client.post("/v1/grade", json=grade), 413)


def test_unknown_routes_and_methods_are_json(client: TestClient) -> None:
    assert_error(client.get("/v1/analyses/nope"), 404)
    assert_error(client.get("/v1/nothing-here"), 404)
    assert_error(client.delete("/v1/analyses"), 405)
    assert_error(client.get("/v1/analyze"), 405)


def test_no_input_is_a_500(client: TestClient, seed_record: dict[str, Any]) -> None:
    """A battery of odd inputs: each is accepted or refused with a 4xx, never a 500."""
    odd: list[Any] = [
        {},
        {"history": None},
        {"history": ["a"]},
        {"history": "Hip pain.", "age": "forty"},
        {"history": "Hip pain.", "modalities": "MR"},
        {"history": "Hip pain.", "imaging": 5},
        {"resourceType": "Bundle"},
        {"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Nope"}}]},
        {"resourceType": "Bundle", "entry": [5]},
        {"resourceType": 5},
        {"text": ""},
        {"text": "!!!! ???? ...."},
        {**seed_record, "age": 10**30},
    ]
    for doc in odd:
        resp = client.post("/v1/analyze", json=doc)
        assert resp.status_code < 500, (doc if len(str(doc)) < 200 else "long", resp.text[:300])
