"""The browser pages, driven through the real app with FastAPI's TestClient."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dxrx.ingest import case_text
from dxrx.kb import KnowledgeBase
from dxrx.web.app import create_app
from dxrx.web.ui import seed_example

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture()
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("DXRX_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DXRX_DATABASE_URL", raising=False)
    monkeypatch.delenv("DXRX_API_TOKEN", raising=False)
    with TestClient(create_app()) as c:
        yield c


def _token(client: TestClient) -> str:
    page = client.get("/")
    match = CSRF.search(page.text)
    assert match, "the case form has no CSRF field"
    return match.group(1)


def _analyse(client: TestClient, text: str) -> str:
    """Submit a case through the form; returns the report page's path."""
    res = client.post(
        "/analyze", data={"text": text, "csrf_token": _token(client)}, follow_redirects=False
    )
    assert res.status_code == 303, res.text[:500]
    location = res.headers["location"]
    assert re.fullmatch(r"/analyses/[A-Za-z0-9_-]+", location)
    return location


def _textarea(html: str) -> str:
    match = re.search(r"<textarea[^>]*>\n?(.*?)</textarea>", html, re.S)
    assert match
    return unescape(match.group(1))


def _differential(html: str) -> list[str]:
    section = html.split('id="differential"', 1)[1].split("</section>", 1)[0]
    return [unescape(n) for n in re.findall(r"<summary><strong>(.*?)</strong>", section)]


def test_seed_example_text_matches_the_json_case(seed_record: dict[str, Any]) -> None:
    """The packaged example is the repo's seed case, headed as dxrx reads a record."""
    assert seed_example() == case_text(seed_record)
    assert seed_example().startswith("History: ")
    assert "\n\nImaging: " in seed_example()


def test_form_has_csrf_field_example_and_nav(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert CSRF.search(page.text)
    assert '<meta name="viewport"' in page.text
    for label in ("New case", "History", "Knowledge base", "Load the worked example"):
        assert label in page.text
    filled = client.get("/", params={"example": "seed"})
    assert _textarea(filled.text).strip() == seed_example()


def test_post_without_csrf_is_refused_and_keeps_the_text(client: TestClient) -> None:
    text = "History: a case that must not be analysed without a token."
    res = client.post("/analyze", data={"text": text}, follow_redirects=False)
    assert res.status_code == 403
    assert _textarea(res.text) == text
    assert client.get("/analyses").text.count("/analyses/") == 0


def test_seed_text_gives_the_report_page(client: TestClient, kb: KnowledgeBase) -> None:
    location = _analyse(client, seed_example())
    page = client.get(location)
    assert page.status_code == 200
    ddx = _differential(page.text)
    assert ddx[0].startswith("Superior gluteal nerve entrapment"), ddx[:3]
    assert len(ddx) > 1
    assert '<figure class="anatomy">' in page.text and "<svg" in page.text
    assert 'data-id="gluteus-medius"' in page.text
    assert '<mark id="src-1">' in page.text and 'href="#src-' in page.text
    analysis_id = location.rsplit("/", 1)[1]
    for ext in ("pdf", "fhir", "json", "html", "md"):
        assert f'href="/v1/analyses/{analysis_id}/report.{ext}"' in page.text
    assert 'href="/ui/report.css"' in page.text
    links = json.loads(
        re.search(r'id="dxrx-links">(.*?)</script>', page.text, re.S).group(1)  # type: ignore[union-attr]
    )
    cited = {i for ids in links["passages"].values() for i in ids}
    assert {"gluteus-medius", "gluteus-minimus", "tensor-fasciae-latae"} <= cited
    assert links["nodes"]["superior-gluteal-nerve"] == kb.name_of("superior-gluteal-nerve")
    css = client.get("/ui/report.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "mark:target" in css.text


def test_report_view_is_audited(client: TestClient) -> None:
    location = _analyse(client, seed_example())
    analysis_id = location.rsplit("/", 1)[1]
    client.get(location)
    client.get(location)
    store = client.app.state.store  # type: ignore[attr-defined]
    views = [e for e in store.audit_log() if e.action == "view" and e.analysis_id == analysis_id]
    assert len(views) == 2


def test_history_lists_and_searches(client: TestClient) -> None:
    location = _analyse(client, seed_example())
    page = client.get("/analyses")
    assert page.status_code == 200
    assert f'href="{location}"' in page.text
    assert "Superior gluteal nerve entrapment" in page.text
    assert "text" in page.text  # input format column
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", page.text)
    found = client.get("/analyses", params={"q": "gluteal"})
    assert f'href="{location}"' in found.text
    by_text = client.get("/analyses", params={"q": "steadily worse"})
    assert f'href="{location}"' in by_text.text
    missing = client.get("/analyses", params={"q": "carpal tunnel"})
    assert f'href="{location}"' not in missing.text
    assert "No analysis matches" in missing.text


def test_history_paginates(client: TestClient) -> None:
    for _ in range(21):
        _analyse(client, seed_example())
    first = client.get("/analyses")
    assert "page 1 of 2" in first.text and 'rel="next"' in first.text
    assert first.text.count('aria-label="Open the work-up') == 20
    second = client.get("/analyses", params={"page": "2"})
    assert second.text.count('aria-label="Open the work-up') == 1
    assert 'rel="prev"' in second.text
    assert client.get("/analyses", params={"page": "nonsense"}).status_code == 200


def test_kb_browser_lists_filters_and_shows_a_condition(
    client: TestClient, kb: KnowledgeBase
) -> None:
    page = client.get("/conditions")
    assert page.status_code == 200
    assert page.text.count("<li data-search=") == len(kb.conditions)
    assert 'id="kb-filter"' in page.text
    filtered = client.get("/conditions", params={"q": "superior gluteal"})
    assert 'href="/conditions/superior-gluteal-nerve-entrapment"' in filtered.text
    assert filtered.text.count("<li data-search=") < len(kb.conditions)
    cond = kb.conditions["superior-gluteal-nerve-entrapment"]
    detail = client.get(f"/conditions/{cond.id}")
    assert detail.status_code == 200
    text = unescape(detail.text)
    assert cond.name in text and cond.description in text
    assert all(code in text for code in cond.icd10)
    assert all(alias in text for alias in cond.aliases)
    assert kb.protocols[cond.rehab_protocol].name in text
    assert cond.treatment[0].text in text
    assert "Key findings" in text and "Imaging" in text
    assert "present;" in text and "suggestive of it" in text
    first_ref = kb.references[cond.refs[0]]
    assert first_ref.citation in text
    assert client.get("/conditions/no-such-condition").status_code == 404


def test_bad_case_keeps_the_text(client: TestClient) -> None:
    token = _token(client)
    broken = '{"history": "Hip pain for a month", "age": "forty"'
    res = client.post("/analyze", data={"text": broken, "csrf_token": token})
    assert res.status_code == 422
    assert _textarea(res.text) == broken
    assert 'role="alert"' in res.text and "JSON" in res.text
    bad_case = '{"history": "Hip pain for a month.", "age": "forty"}'
    res = client.post("/analyze", data={"text": bad_case, "csrf_token": token})
    assert res.status_code == 422
    assert _textarea(res.text) == bad_case
    assert "whole number" in res.text
    blank = client.post("/analyze", data={"text": "   ", "csrf_token": token})
    assert blank.status_code == 400
    assert "Paste a case first" in blank.text


def test_json_case_is_accepted(client: TestClient, seed_record: dict[str, Any]) -> None:
    location = _analyse(client, json.dumps(seed_record))
    assert _differential(client.get(location).text)[0].startswith("Superior gluteal")
    history = client.get("/analyses").text
    assert re.search(r"<td>case</td>", history)


def test_pages_need_the_token_when_one_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a token the browser logs in with HTTP Basic, and the form flow still works."""
    monkeypatch.setenv("DXRX_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DXRX_DATABASE_URL", raising=False)
    token = "ui-test-token-0123456789"
    monkeypatch.setenv("DXRX_API_TOKEN", token)
    with TestClient(create_app()) as c:
        for path in ("/", "/analyses", "/conditions", "/ui/report.css"):
            assert c.get(path).status_code == 401, path
        c.auth = ("clinician", token)
        location = _analyse(c, seed_example())
        assert c.get(location).status_code == 200
        store = c.app.state.store  # type: ignore[attr-defined]
        actors = {e.actor for e in store.audit_log() if e.action == "view"}
        assert actors and all("token:" in a for a in actors)


def test_fhir_bundle_is_accepted(client: TestClient) -> None:
    bundle = (Path(__file__).parent / "data" / "seed-bundle.json").read_text(encoding="utf-8")
    location = _analyse(client, bundle)
    assert _differential(client.get(location).text)[0].startswith("Superior gluteal")
    assert "<td>fhir</td>" in client.get("/analyses").text


def test_unknown_analysis_is_a_page_not_a_crash(client: TestClient) -> None:
    for path in ("/analyses/doesnotexist", "/analyses/not%20an%20id!"):
        res = client.get(path)
        assert res.status_code == 404
        assert "Not found" in res.text
