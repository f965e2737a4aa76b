"""OpenAPI docs that render offline: Swagger UI served from the swagger_ui_bundle package.

FastAPI's built-in /docs loads Swagger UI from a CDN and inlines its start-up
script; both fail here (no network; the CSP forbids inline script). This page
loads the packaged assets from /docs-static and starts Swagger UI from a
script file. The packaged Swagger UI (4.x) reads OpenAPI 3.0 only, so it is
given /docs/openapi-3.0.json, a 3.0.3 restatement of FastAPI's 3.1
/openapi.json.
"""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

DOCS_STATIC = "/docs-static"
PROTECTED_PREFIXES = ("/v1", "/cds-services")

_INIT_JS = """\
window.addEventListener("load", function () {
  var root = document.body.getAttribute("data-root") || "";
  window.ui = SwaggerUIBundle({
    url: root + "/docs/openapi-3.0.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
});
"""


def docs_page(root: str, title: str) -> str:
    base = escape(root + DOCS_STATIC)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<link rel="stylesheet" href="{base}/swagger-ui.css">'
        f'<link rel="icon" type="image/png" href="{base}/favicon-32x32.png">'
        f'</head><body data-root="{escape(root)}"><div id="swagger-ui"></div>'
        f'<script src="{base}/swagger-ui-bundle.js"></script>'
        f'<script src="{escape(root)}/docs/init.js"></script>'
        "</body></html>\n"
    )


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return {"allOf": [schema], "nullable": True}
    return {**schema, "nullable": True}


def to_openapi_30(node: Any) -> Any:
    """An OpenAPI 3.1 document (FastAPI's) restated as 3.0.3, which Swagger UI 4 reads.

    Nulls in ``anyOf``/``type`` lists become ``nullable``, ``const`` becomes a
    one-value ``enum``, schema ``examples`` lists become ``example`` and numeric
    ``exclusiveMinimum``/``exclusiveMaximum`` become the 3.0 boolean form.
    """
    if isinstance(node, list):
        return [to_openapi_30(v) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "const":
            out["enum"] = [value]
        elif key == "examples" and isinstance(value, list):
            if value:
                out["example"] = to_openapi_30(value[0])
        elif key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):
            out["minimum" if key == "exclusiveMinimum" else "maximum"] = value
            out[key] = True
        elif key == "type" and isinstance(value, list):
            kinds = [t for t in value if t != "null"]
            out["type"] = kinds[0] if len(kinds) == 1 else kinds
            if "null" in value:
                out["nullable"] = True
        else:
            out[key] = to_openapi_30(value)
    for key in ("anyOf", "oneOf"):
        options = out.get(key)
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [o for o in options if o != {"type": "null"}]
            del out[key]
            if len(rest) == 1:
                out = {**_nullable(rest[0]), **out}
            else:
                out = {**out, key: rest, "nullable": True}
    if out.get("openapi", "").startswith("3.1"):
        out["openapi"] = "3.0.3"
    return out


def _with_security(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document with the bearer token declared on the protected routes."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schema.setdefault("components", {})["securitySchemes"] = {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "Needed when the server has an API token (always beyond localhost).",
            }
        }
        for path, operations in schema.get("paths", {}).items():
            if path.startswith(PROTECTED_PREFIXES):
                for op in operations.values():
                    op["security"] = [{"bearer": []}]
        app.openapi_schema = schema
    return app.openapi_schema


def install_docs(app: FastAPI) -> None:
    """Serve /docs (offline Swagger UI) and /openapi.json; the app must be created with
    ``docs_url=None, redoc_url=None``."""
    app.mount(DOCS_STATIC, StaticFiles(directory=str(swagger_ui_path)), name="docs-static")
    app.openapi = lambda: _with_security(app)  # type: ignore[method-assign]

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return HTMLResponse(docs_page(root, f"{app.title} — API"))

    @app.get("/docs/openapi-3.0.json", include_in_schema=False)
    def docs_schema() -> dict[str, Any]:
        return dict(to_openapi_30(app.openapi()))

    @app.get("/docs/init.js", include_in_schema=False)
    def docs_init() -> Response:
        return Response(_INIT_JS, media_type="text/javascript")
