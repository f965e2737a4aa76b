"""Every error as JSON ``{"error": ..., "detail": ...}``; nothing echoes the request body."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from dxrx.errors import InputError, OutputError
from dxrx.web.service import CaseTooLarge

log = logging.getLogger("dxrx.web")


def error_body(status: int, detail: Any = None, error: str | None = None) -> dict[str, Any]:
    phrase = error or HTTPStatus(status).phrase.lower()
    return {"error": phrase, "detail": detail}


def error_response(
    status: int,
    detail: Any = None,
    *,
    error: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(status, detail, error), status_code=status, headers=headers)


def scrubbed_traceback(exc: BaseException) -> str:
    """The traceback's frames and exception type, without its message (it may quote a case)."""
    frames = traceback.extract_tb(exc.__traceback__)
    lines = [f'  File "{f.filename}", line {f.lineno}, in {f.name}' for f in frames]
    return "Traceback (message withheld):\n" + "\n".join(lines) + f"\n{type(exc).__qualname__}"


def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return error_response(exc.status_code, exc.detail, headers=exc.headers)


def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    detail = [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in exc.errors()
    ]  # "input" is left out on purpose: it would echo the case back
    return error_response(422, detail, error="invalid request")


def _input_error(_request: Request, exc: Exception) -> JSONResponse:
    return error_response(400, str(exc), error="unusable input")


def _too_large(_request: Request, exc: Exception) -> JSONResponse:
    return error_response(413, str(exc), error="case too large")


def _output_error(_request: Request, exc: Exception) -> JSONResponse:
    return error_response(503, str(exc), error="output unavailable")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(InputError, _input_error)
    app.add_exception_handler(CaseTooLarge, _too_large)
    app.add_exception_handler(OutputError, _output_error)
