"""REST API v1: analyse, fetch and list stored analyses, grade, browse the KB, health."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from dxrx import __version__
from dxrx.errors import InputError
from dxrx.kb.loader import KnowledgeBase
from dxrx.model import Report
from dxrx.store import AnalysisSummary, Store, StoredAnalysis
from dxrx.web.deps import actor, get_kb, get_settings, get_store, note_analysis, run_cpu
from dxrx.web.service import (
    UnsupportedMediaType,
    analyze_input,
    body_from_request,
    check_length,
    input_text_of,
)

router = APIRouter()

REPORT_TYPES = {
    "md": ("text/markdown; charset=utf-8", "md"),
    "html": ("text/html; charset=utf-8", "html"),
    "pdf": ("application/pdf", "pdf"),
    "fhir": ("application/fhir+json", "fhir.json"),
    "json": ("application/json", "json"),
}
MAX_QUERY = 200

_CASE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "JSON case record",
    "required": ["history"],
    "properties": {
        "id": {"type": "string"},
        "age": {"type": "integer"},
        "sex": {"type": "string", "enum": ["female", "male"]},
        "history": {"type": "string"},
        "imaging": {"type": "string"},
        "modalities": {"type": "array", "items": {"type": "string"}},
        "final_diagnosis": {"type": "string"},
    },
}
_TEXT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Free text",
    "required": ["text"],
    "properties": {"text": {"type": "string"}},
}
_BUNDLE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "FHIR R4 Bundle",
    "required": ["resourceType"],
    "properties": {"resourceType": {"type": "string", "enum": ["Bundle"]}},
}
_SEED_EXAMPLE = {
    "age": 47,
    "sex": "female",
    "history": "Three months of buttock pain, worse with exercise; right hip weak in abduction.",
    "imaging": "STIR: increased signal in right gluteus medius, minimus and tensor fasciae latae.",
    "modalities": ["MR"],
}
ANALYZE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"oneOf": [_CASE_SCHEMA, _TEXT_SCHEMA, _BUNDLE_SCHEMA]},
                "example": _SEED_EXAMPLE,
            },
            "application/fhir+json": {"schema": _BUNDLE_SCHEMA},
            "text/plain": {"schema": {"type": "string"}},
        },
    }
}


class AnalyzeResponse(BaseModel):
    id: str
    report: Report


class AnalysisPage(BaseModel):
    items: list[AnalysisSummary]
    total: int
    offset: int
    limit: int


class ConditionSummary(BaseModel):
    id: str
    name: str
    category: str
    icd10: list[str]


class ConditionList(BaseModel):
    items: list[ConditionSummary]
    total: int


class GradeRequest(BaseModel):
    workup: str | dict[str, Any] = Field(
        description="The work-up to grade: free text / Markdown, or a dxrx JSON report."
    )
    case: dict[str, Any] = Field(description="The JSON case record, with final_diagnosis.")


class Health(BaseModel):
    status: str
    kb_version: str
    dxrx_version: str
    database: str


StoreDep = Annotated[Store, Depends(get_store)]
KbDep = Annotated[KnowledgeBase, Depends(get_kb)]
ActorDep = Annotated[str, Depends(actor)]


def _not_found(analysis_id: str) -> HTTPException:
    return HTTPException(status_code=404, detail=f"no analysis with id {analysis_id!r}")


def _stored(store: Store, analysis_id: str) -> StoredAnalysis:
    found = store.get(analysis_id)
    if found is None:
        raise _not_found(analysis_id)
    return found


def analysis_json(found: StoredAnalysis) -> dict[str, Any]:
    doc = found.model_dump(mode="json", exclude={"report"})
    doc["report"] = found.report.model_dump(mode="json", by_alias=True)
    return doc


@router.post(
    "/v1/analyze",
    tags=["analyses"],
    summary="Work up a case and store the analysis",
    openapi_extra=ANALYZE_BODY,
    responses={200: {"model": AnalyzeResponse}, 400: {}, 413: {}, 415: {}},
)
async def analyze(request: Request, store: StoreDep, kb: KbDep, who: ActorDep) -> JSONResponse:
    """Body: a JSON case record, a FHIR R4 Bundle, ``{"text": "..."}`` (application/json),
    or plain text (text/plain). Returns ``{"id", "report"}``; the analysis is committed to
    the store before the response is sent."""
    raw = await request.body()
    try:
        body = body_from_request(raw, request.headers.get("content-type"))
    except UnsupportedMediaType as exc:
        raise HTTPException(
            status_code=415,
            detail=f"Content-Type {exc} is not supported: send application/json, "
            "application/fhir+json or text/plain",
        ) from None
    limit = get_settings(request).max_case_chars
    report, fmt = await run_cpu(request, lambda: analyze_input(body, kb, max_chars=limit))
    text = input_text_of(body)
    saved = await run_in_threadpool(
        lambda: store.save(input_text=text, input_format=fmt, report=report, actor=who)
    )
    note_analysis(request, saved.id)
    doc = {"id": saved.id, "report": report.model_dump(mode="json", by_alias=True)}
    return JSONResponse(doc, headers={"location": f"/v1/analyses/{saved.id}"})


@router.get(
    "/v1/analyses",
    tags=["analyses"],
    summary="List stored analyses, newest first",
    response_model=AnalysisPage,
)
def list_analyses(
    store: StoreDep,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    q: Annotated[
        str | None,
        Query(max_length=MAX_QUERY, description="Search the leading diagnosis and the input."),
    ] = None,
) -> AnalysisPage:
    items, total = store.list(offset=offset, limit=limit, query=q)
    return AnalysisPage(items=items, total=total, offset=offset, limit=limit)


@router.get(
    "/v1/analyses/{analysis_id}",
    tags=["analyses"],
    summary="One stored analysis: input, report, versions and time",
    responses={200: {"model": StoredAnalysis}, 404: {}},
)
def get_analysis(
    analysis_id: str, request: Request, store: StoreDep, who: ActorDep
) -> JSONResponse:
    found = _stored(store, analysis_id)
    note_analysis(request, found.id)
    store.audit(actor=who, action="view", analysis_id=found.id)
    return JSONResponse(analysis_json(found))


@router.get(
    "/v1/analyses/{analysis_id}/report.{fmt}",
    tags=["analyses"],
    summary="Download a stored analysis' report (md, html, pdf, fhir or json)",
    response_class=Response,
    responses={
        200: {"content": {t: {} for t, _ in REPORT_TYPES.values()}},
        404: {},
    },
)
def download_report(
    analysis_id: str, fmt: str, request: Request, store: StoreDep, kb: KbDep, who: ActorDep
) -> Response:
    if fmt not in REPORT_TYPES:
        raise HTTPException(
            status_code=404,
            detail=f"no report format {fmt!r}; choose one of {', '.join(REPORT_TYPES)}",
        )
    found = _stored(store, analysis_id)
    note_analysis(request, found.id)
    from dxrx.report import render, render_pdf_report

    content: str | bytes
    content = render_pdf_report(found.report, kb) if fmt == "pdf" else render(found.report, fmt, kb)
    mime, ext = REPORT_TYPES[fmt]
    store.audit(actor=who, action="download", analysis_id=found.id)
    disposition = f'attachment; filename="dxrx-{found.id}.{ext}"'
    return Response(content, media_type=mime, headers={"content-disposition": disposition})


def _grade_inputs(body: GradeRequest, limit: int) -> tuple[str | Report, dict[str, Any]]:
    """The CLI's checks on a work-up and a case record, for request bodies."""
    from dxrx.ingest import case_text
    from dxrx.ingest.source import check_case_record, check_english

    record = check_case_record(body.case, "the case")
    check_length(case_text(record), limit)
    truth = record.get("final_diagnosis")
    if not isinstance(truth, str) or not truth.strip():
        raise InputError("the case has no 'final_diagnosis' to grade against")
    if isinstance(body.workup, str):
        if not body.workup.strip():
            raise InputError("the work-up is empty")
        check_length(body.workup, limit)
        check_english(body.workup, "the work-up")
        return body.workup, record
    if "differential" not in body.workup:
        raise InputError("a JSON work-up must be a dxrx report (with 'differential')")
    try:
        return Report.model_validate(body.workup), record
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(f"the work-up is not a dxrx report ({where}: {first['msg']})") from None


@router.post(
    "/v1/grade",
    tags=["grade"],
    summary="Grade a work-up against a case's ground truth",
    responses={200: {"description": "The grade, as `dxrx grade -f json` prints it"}, 400: {}},
)
def grade(
    body: GradeRequest, request: Request, store: StoreDep, kb: KbDep, who: ActorDep
) -> JSONResponse:
    from dxrx.grade import grade as grade_workup

    workup, record = _grade_inputs(body, get_settings(request).max_case_chars)
    result = grade_workup(workup, record, kb)
    store.audit(actor=who, action="grade", analysis_id=None)
    return JSONResponse(result.model_dump(mode="json"))


def _matches(query: str, *values: str) -> bool:
    return any(query in v.lower() for v in values)


@router.get(
    "/v1/conditions",
    tags=["knowledge base"],
    summary="Conditions in the knowledge base",
    response_model=ConditionList,
)
def list_conditions(
    kb: KbDep,
    q: Annotated[
        str | None, Query(max_length=MAX_QUERY, description="Match id, name, alias or ICD-10.")
    ] = None,
) -> ConditionList:
    needle = (q or "").strip().lower()
    items = [
        ConditionSummary(id=c.id, name=c.name, category=c.category, icd10=list(c.icd10))
        for c in sorted(kb.conditions.values(), key=lambda c: c.name.lower())
        if not needle or _matches(needle, c.id, c.name, *c.aliases, *c.icd10)
    ]
    return ConditionList(items=items, total=len(items))


def _ref_ids(node: Any, out: set[str]) -> set[str]:
    """Every id under a ``refs`` key anywhere in a dumped KB record."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "refs" and isinstance(value, list):
                out.update(v for v in value if isinstance(v, str))
            else:
                _ref_ids(value, out)
    elif isinstance(node, list):
        for item in node:
            _ref_ids(item, out)
    return out


@router.get(
    "/v1/conditions/{condition_id}",
    tags=["knowledge base"],
    summary="A condition's full KB record and the references it cites",
    responses={404: {}},
)
def get_condition(condition_id: str, kb: KbDep) -> dict[str, Any]:
    cond = kb.conditions.get(condition_id)
    if cond is None:
        raise HTTPException(status_code=404, detail=f"no condition with id {condition_id!r}")
    record = cond.model_dump(mode="json")
    refs = sorted(_ref_ids(record, set()))
    references = [kb.references[r].model_dump(mode="json") for r in refs if r in kb.references]
    return {"condition": record, "references": references}


@router.get("/healthz", tags=["health"], summary="Liveness and versions", response_model=Health)
def healthz(store: StoreDep, kb: KbDep) -> JSONResponse:
    ok = store.ping()
    health = Health(
        status="ok" if ok else "degraded",
        kb_version=kb.version,
        dxrx_version=__version__,
        database="ok" if ok else "unavailable",
    )
    return JSONResponse(health.model_dump(), status_code=200 if ok else 503)


__all__ = ["analysis_json", "router"]
