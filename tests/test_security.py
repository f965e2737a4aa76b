"""Security: token auth, constant-time compare, rate limit, headers, CSRF, body limit, logs."""

from __future__ import annotations

import base64
import hmac
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import Form, Request
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from dxrx.cli import app as cli_app
from dxrx.web import security
from dxrx.web.app import create_app
from dxrx.web.security import CSRF_COOKIE, RateLimiter, csrf_token, verify_csrf
from dxrx.web.settings import Settings, is_loopback
from web_support import TOKEN, make_client

BEARER = {"authorization": f"Bearer {TOKEN}"}
PHRASE = "Wobblesworth"  # a distinctive word of the case that must never reach a log
CASE = (
    f"History: Woman aged 47, keeper of a pet quokka named {PHRASE}, with three months of "
    "buttock pain that is worse with exercise; the right hip is weak in abduction.\n\n"
    "Imaging: STIR shows increased signal in the right gluteus medius, gluteus minimus and "
    "tensor fasciae latae."
)
HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with make_client(tmp_path, token=TOKEN) as c:
        yield c


# ---- binding and tokens ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("example.org", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_app_refuses_public_bind_without_token(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    with pytest.raises(ValueError, match="API token is required"):
        create_app(Settings(host="0.0.0.0", token=None, database_url=url))
    with pytest.raises(ValueError, match="too short"):
        create_app(Settings(host="0.0.0.0", token="short", database_url=url))


def test_serve_refuses_public_bind_without_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DXRX_API_TOKEN", raising=False)
    monkeypatch.setenv("DXRX_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(cli_app, ["serve", "--host", "0.0.0.0", "--port", "1"])
    assert result.exit_code == 2
    assert "API token is required" in result.output
    empty = tmp_path / "token"
    empty.write_text("\n")
    result = CliRunner().invoke(cli_app, ["serve", "--host", "0.0.0.0", "--token-file", str(empty)])
    assert result.exit_code == 2 and "empty" in result.output


def test_token_required_beyond_localhost(tmp_path: Path) -> None:
    with make_client(tmp_path, host="0.0.0.0", token=TOKEN) as c:
        resp = c.get("/v1/analyses")
        assert resp.status_code == 401
        assert resp.json()["error"] == "unauthorized"
        assert resp.headers["www-authenticate"].startswith("Bearer")
        assert c.get("/v1/analyses", headers=BEARER).status_code == 200
        assert c.get("/cds-services").status_code == 401
        assert c.get("/cds-services", headers=BEARER).status_code == 200
        assert c.get("/healthz").status_code == 200  # public: load balancers probe it
        assert c.get("/docs").status_code == 200


def test_no_token_on_localhost_is_open(tmp_path: Path) -> None:
    with make_client(tmp_path) as c:
        assert c.get("/v1/analyses").status_code == 200


@pytest.mark.parametrize(
    "auth",
    [
        "Bearer wrong-token-0123456789abcdef",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
        f"Token {TOKEN}",
        "Bearer",
        "Basic " + base64.b64encode(b"alice:wrong").decode(),
        "Basic not-base64!!",
    ],
)
def test_wrong_token_is_401(client: TestClient, auth: str) -> None:
    resp = client.get("/v1/analyses", headers={"authorization": auth})
    assert resp.status_code == 401
    assert set(resp.json()) == {"error", "detail"}


def test_browser_gets_basic_challenge_and_basic_works(client: TestClient) -> None:
    resp = client.get("/", headers={"accept": "text/html"})
    assert resp.status_code == 401
    assert resp.headers["www-authenticate"].startswith("Basic")
    basic = "Basic " + base64.b64encode(f"alice:{TOKEN}".encode()).decode()
    assert client.get("/v1/analyses", headers={"authorization": basic}).status_code == 200


def test_token_compared_in_constant_time(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(security.hmac, "compare_digest", spy)
    assert client.get("/v1/analyses", headers={"authorization": "Bearer nope"}).status_code == 401
    assert (TOKEN.encode(), b"nope") in calls
    calls.clear()
    assert client.get("/v1/analyses", headers=BEARER).status_code == 200
    assert (TOKEN.encode(), TOKEN.encode()) in calls


def test_audit_names_the_token_holder(client: TestClient, seed_record: dict[str, Any]) -> None:
    aid = client.post("/v1/analyze", json=seed_record, headers=BEARER).json()["id"]
    client.get(f"/v1/analyses/{aid}", headers=BEARER)
    client.get(f"/v1/analyses/{aid}/report.md", headers=BEARER)
    grade = {"workup": "Superior gluteal nerve entrapment.", "case": seed_record}
    client.post("/v1/grade", json=grade, headers=BEARER)
    store = client.app.state.store  # type: ignore[attr-defined]
    log = store.audit_log(limit=10)
    assert [e.action for e in log] == ["grade", "download", "view", "analyze"]
    holder = f"token:{security.token_fingerprint(TOKEN)}"
    assert all(e.actor == holder for e in log)
    assert TOKEN not in str(log)


def test_audit_names_the_client_address_without_token(
    tmp_path: Path, seed_record: dict[str, Any]
) -> None:
    with make_client(tmp_path) as c:
        c.post("/v1/analyze", json=seed_record)
        (entry,) = c.app.state.store.audit_log()  # type: ignore[attr-defined]
    assert entry.actor == "client:testclient" and entry.action == "analyze"


# ---- rate limit --------------------------------------------------------------------------


def test_rate_limit_429_with_retry_after(tmp_path: Path) -> None:
    with make_client(tmp_path, rate_limit_per_minute=3) as c:
        codes = [c.get("/v1/conditions?q=gluteal").status_code for _ in range(3)]
        assert codes == [200, 200, 200]
        resp = c.get("/v1/conditions")
        assert resp.status_code == 429
        assert resp.json()["error"] == "rate limit exceeded"
        assert int(resp.headers["retry-after"]) >= 1
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert c.get("/healthz").status_code == 200  # health probes are not limited


def test_token_bucket_refills_per_client() -> None:
    limiter = RateLimiter(60)  # one a second, bursts of 60
    assert all(limiter.acquire("a", now=0.0) == 0.0 for _ in range(60))
    wait = limiter.acquire("a", now=0.0)
    assert wait == pytest.approx(1.0)
    assert limiter.acquire("b", now=0.0) == 0.0  # another client has its own bucket
    assert limiter.acquire("a", now=1.0) == 0.0  # a second later one token is back
    assert limiter.acquire("a", now=1.0) > 0
    assert RateLimiter(0).acquire("a") == 0.0  # 0 turns limiting off


def test_rate_limiter_forgets_old_clients() -> None:
    limiter = RateLimiter(1, max_clients=2)
    for key in ("a", "b", "c"):
        limiter.acquire(key, now=0.0)
    assert limiter.acquire("a", now=0.0) == 0.0  # "a" was dropped: a fresh full bucket


# ---- headers ---------------------------------------------------------------------------


def test_security_headers_on_every_response(client: TestClient) -> None:
    responses = [
        client.get("/healthz"),
        client.get("/docs"),
        client.get("/v1/analyses", headers=BEARER),
        client.get("/v1/analyses"),  # 401
        client.get("/v1/analyses/none", headers=BEARER),  # 404
        client.post(
            "/v1/analyze",
            content=b"x" * 2_000_000,
            headers={**BEARER, "content-type": "text/plain"},
        ),  # 413
    ]
    for resp in responses:
        for name, value in HEADERS.items():
            assert resp.headers[name] == value, (resp.request.url, name)
        csp = resp.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("style-src")[0]
        assert "permissions-policy" in resp.headers
    assert responses[2].headers["cache-control"] == "no-store"


def test_docs_page_loads_nothing_from_outside(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "http://" not in page.text and "https://" not in page.text
    assert "<script>" not in page.text  # no inline script: the CSP forbids it
    for asset in ("/docs-static/swagger-ui-bundle.js", "/docs-static/swagger-ui.css"):
        assert asset in page.text
        assert client.get(asset).status_code == 200
    assert "SwaggerUIBundle" in client.get("/docs/init.js").text
    spec = client.get("/openapi.json").json()
    assert "/v1/analyze" in spec["paths"] and "bearer" in spec["components"]["securitySchemes"]
    # the packaged Swagger UI 4 reads OpenAPI 3.0 only: the page gets a 3.0.3 restatement
    assert "openapi-3.0.json" in client.get("/docs/init.js").text
    spec30 = client.get("/docs/openapi-3.0.json").json()
    assert spec30["openapi"] == "3.0.3" and spec["openapi"].startswith("3.1")
    assert '"null"' not in json.dumps(spec30) and '"const"' not in json.dumps(spec30)
    assert spec30["paths"].keys() == spec["paths"].keys()


def test_openapi_30_restatement() -> None:
    from dxrx.web.docs import to_openapi_30

    doc = {
        "openapi": "3.1.0",
        "a": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "A"},
        "b": {"anyOf": [{"$ref": "#/x"}, {"type": "null"}]},
        "c": {"type": ["integer", "null"], "exclusiveMinimum": 0},
        "d": {"const": "Bundle", "examples": ["Bundle"]},
    }
    assert to_openapi_30(doc) == {
        "openapi": "3.0.3",
        "a": {"type": "string", "nullable": True, "title": "A"},
        "b": {"allOf": [{"$ref": "#/x"}], "nullable": True},
        "c": {"type": "integer", "nullable": True, "minimum": 0, "exclusiveMinimum": True},
        "d": {"enum": ["Bundle"], "example": "Bundle"},
    }


# ---- CSRF ------------------------------------------------------------------------------


def _csrf_app(tmp_path: Path) -> TestClient:
    client = make_client(tmp_path)
    app = client.app

    @app.get("/_csrf-form")  # type: ignore[attr-defined]
    def form(request: Request) -> HTMLResponse:
        return HTMLResponse(f'<input name="csrf_token" value="{csrf_token(request)}">')

    @app.post("/_csrf-form")  # type: ignore[attr-defined]
    def submit(request: Request, csrf_token: str = Form("")) -> dict[str, bool]:
        verify_csrf(request, csrf_token)
        return {"ok": True}

    return client


def test_csrf_double_submit(tmp_path: Path) -> None:
    with _csrf_app(tmp_path) as c:
        resp = c.get("/_csrf-form")
        cookie = resp.cookies[CSRF_COOKIE]
        assert f'value="{cookie}"' in resp.text
        set_cookie = resp.headers["set-cookie"].lower()
        assert "httponly" in set_cookie and "samesite=strict" in set_cookie
        # the same token is reused while the cookie is there
        again = c.get("/_csrf-form")
        assert f'value="{cookie}"' in again.text and "set-cookie" not in again.headers
        assert c.post("/_csrf-form", data={"csrf_token": cookie}).json() == {"ok": True}
        wrong = c.post("/_csrf-form", data={"csrf_token": "forged"})
        assert wrong.status_code == 403 and wrong.json()["error"] == "forbidden"
        assert c.post("/_csrf-form", data={}).status_code == 403
        c.cookies.clear()  # a cross-site form post carries no (readable) cookie
        assert c.post("/_csrf-form", data={"csrf_token": cookie}).status_code == 403


# ---- logs and errors -------------------------------------------------------------------


def test_logs_never_contain_case_text(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, seed_record: dict[str, Any]
) -> None:
    caplog.set_level(logging.DEBUG)
    with make_client(tmp_path) as c:
        resp = c.post("/v1/analyze", json={"text": CASE})
        assert resp.status_code == 200
        aid = resp.json()["id"]
        assert c.get(f"/v1/analyses/{aid}").status_code == 200
        assert c.get("/v1/analyses", params={"q": PHRASE}).json()["total"] == 1
        assert c.get(f"/v1/analyses/{aid}/report.md").status_code == 200
        c.post("/v1/analyze", content=CASE.encode(), headers={"content-type": "text/plain"})
        c.post("/v1/grade", json={"workup": CASE, "case": {**seed_record, "history": CASE}})
        c.post("/v1/analyze", json={"history": CASE, "sex": "unknown"})  # 400
        c.post("/v1/analyze", json={"history": CASE, "age": "x" + PHRASE})  # 400
        c.get("/v1/analyses", params={"limit": PHRASE})  # 422
    server = [r for r in caplog.records if r.name != "httpx"]  # httpx: the test's own client
    assert {r.name for r in server} >= {"dxrx.web.access"}
    text = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in server)
    assert f"analysis={aid}" in text  # the access log names the analysis...
    assert "/v1/analyses/{analysis_id}" in text  # ...and the route template, not the path
    assert PHRASE not in text and "quokka" not in text


def test_validation_errors_do_not_echo_input(client: TestClient) -> None:
    resp = client.get("/v1/analyses", params={"limit": PHRASE}, headers=BEARER)
    assert resp.status_code == 422 and PHRASE not in resp.text


def test_crash_is_a_json_500_without_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError(f"pipeline broke on {PHRASE}")

    monkeypatch.setattr("dxrx.web.service.analyze_case", explode)
    caplog.set_level(logging.DEBUG)
    with make_client(tmp_path) as c:
        resp = c.post("/v1/analyze", json={"text": CASE})
    assert resp.status_code == 500
    assert resp.json() == {
        "error": "internal error",
        "detail": "an unexpected error occurred; it has been logged",
    }
    assert resp.headers["x-frame-options"] == "DENY"
    assert PHRASE not in resp.text and "Traceback" not in resp.text
    logged = caplog.text
    assert "RuntimeError" in logged and "explode" in logged  # the frames are logged...
    assert PHRASE not in logged  # ...the message, which may quote the case, is not
