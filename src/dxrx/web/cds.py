"""CDS Hooks 2.0 service: a dxrx work-up as cards when a clinician opens a patient's chart.

Hook: ``patient-view``. dxrx works up a whole case (history, examination
and imaging report) into a differential, red flags and a plan; that is
decision support for when a chart is opened. ``order-select`` fires while a
clinician picks orders and its context is the draft orders themselves, which
dxrx has nothing to say about. patient-view is also the hook every CDS Hooks
client implements.

The EHR sends the Patient and their Conditions, Observations and
DiagnosticReports as prefetch; they become a FHIR Bundle and go through the
same import as ``dxrx analyze bundle.json``. dxrx never calls the EHR's FHIR
server (it runs offline), so a request without prefetch data gets 412, as
the specification says for data the service cannot obtain. The prefetch asks
for the newest observations and reports only: the server works up at most
``max_case_chars`` of case text (a longer chart gets 413).
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from dxrx import DISCLAIMER
from dxrx.errors import InputError
from dxrx.kb.loader import KnowledgeBase
from dxrx.model import Evidence, RedFlagHit, Report
from dxrx.store import Store
from dxrx.web.deps import actor, get_kb, get_settings, get_store, note_analysis
from dxrx.web.service import CaseTooLarge, analyze_input, is_json_type, parse_json_body

router = APIRouter(tags=["CDS Hooks"])

SERVICE_ID = "dxrx-msk-workup"
HOOK = "patient-view"
READ_TYPES = ("Patient", "Condition", "Observation", "DiagnosticReport")
SUMMARY_MAX = 140
CRITICAL_URGENCY = frozenset({"emergency"})

SERVICE = {
    "hook": HOOK,
    "id": SERVICE_ID,
    "title": "dxrx musculoskeletal and peripheral-nerve work-up",
    "description": (
        "Reads the patient's conditions, observations and imaging reports and returns the most "
        "consistent musculoskeletal or peripheral-nerve diagnosis with its evidence, any red "
        "flags, and a link to the full work-up (differential, treatment and rehabilitation)."
    ),
    "prefetch": {
        "patient": "Patient/{{context.patientId}}",
        "conditions": "Condition?patient={{context.patientId}}",
        "observations": "Observation?patient={{context.patientId}}&_sort=-date&_count=50",
        "diagnosticReports": "DiagnosticReport?patient={{context.patientId}}&_sort=-date&_count=10",
    },
    "usageRequirements": "Send the prefetch: dxrx does not query the FHIR server.",
}


def _bad(detail: str) -> HTTPException:
    return HTTPException(status_code=400, detail=detail)


def short(text: str, limit: int = SUMMARY_MAX) -> str:
    """``text`` on one line, cut to ``limit`` characters (the CDS Hooks summary limit)."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


# ---- request -> Bundle --------------------------------------------------------------


def _resources(key: str, value: Any) -> list[dict[str, Any]]:
    """The resources in one prefetch value: a resource, a searchset Bundle, or null."""
    if value is None:
        return []
    if not isinstance(value, dict):
        raise _bad(f"prefetch {key!r} must be a FHIR resource or Bundle (a JSON object)")
    kind = value.get("resourceType")
    if kind == "Bundle":
        entries = value.get("entry") or []
        if not isinstance(entries, list):
            raise _bad(f"prefetch {key!r}: Bundle.entry must be a list")
        found = []
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise _bad(f"prefetch {key!r}: entry {i} is not a JSON object")
            resource = entry.get("resource")
            if resource is not None:
                found += _resources(f"{key}.entry[{i}]", resource)
        return found
    if not isinstance(kind, str) or not kind:
        raise _bad(f"prefetch {key!r} has no resourceType")
    return [value] if kind in READ_TYPES else []  # e.g. OperationOutcome: nothing to read


def _subject(resource: dict[str, Any]) -> str | None:
    ref = resource.get("subject")
    value = ref.get("reference") if isinstance(ref, dict) else None
    return value if isinstance(value, str) else None


def prefetch_bundle(patient_id: str, prefetch: dict[str, Any]) -> dict[str, Any]:
    """A collection Bundle of the prefetched resources of ``patient_id`` (one each)."""
    seen: set[tuple[str, str]] = set()
    entries: list[dict[str, Any]] = []
    for key, value in prefetch.items():
        for res in _resources(str(key), value):
            kind, rid = res["resourceType"], res.get("id")
            if kind == "Patient" and rid is not None and rid != patient_id:
                raise _bad("the prefetched Patient is not context.patientId")
            subject = _subject(res)
            if subject is not None and subject.startswith("Patient/"):
                if subject != f"Patient/{patient_id}":
                    raise _bad(f"a prefetched {kind} belongs to another patient ({subject})")
            if isinstance(rid, str):
                if (kind, rid) in seen:
                    continue
                seen.add((kind, rid))
            entries.append({"resource": res})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def _request(doc: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(patientId, prefetch) of a valid patient-view request; 400 or 412 otherwise."""
    instance = doc.get("hookInstance")
    if not isinstance(instance, str) or not instance.strip():
        raise _bad("'hookInstance' (a string) is required")
    hook = doc.get("hook")
    if hook != HOOK:
        raise _bad(f"this service answers the {HOOK!r} hook, not {hook!r}")
    context = doc.get("context")
    if not isinstance(context, dict):
        raise _bad("'context' (an object) is required")
    patient_id = context.get("patientId")
    if not isinstance(patient_id, str) or not patient_id.strip():
        raise _bad("context.patientId (a string) is required for patient-view")
    prefetch = doc.get("prefetch")
    if prefetch is not None and not isinstance(prefetch, dict):
        raise _bad("'prefetch' must be an object")
    if not prefetch or all(v is None for v in prefetch.values()):
        raise HTTPException(
            status_code=412,
            detail="no prefetch data: send the service's prefetch (dxrx does not query the "
            "FHIR server)",
        )
    return patient_id, prefetch


# ---- Report -> cards ----------------------------------------------------------------


def _source(url: str) -> dict[str, Any]:
    return {"label": "dxrx", "url": url}


def _evidence_lines(items: list[Evidence], limit: int = 5) -> list[str]:
    lines = []
    for ev in items[:limit]:
        quote = f' — "{" ".join(ev.span.text.split())}"' if ev.span is not None else ""
        lines.append(f"- {ev.statement}{quote}")
    return lines


def leading_card(report: Report, url: str) -> dict[str, Any]:
    lead = report.leading
    top = report.differential[0] if report.differential else None
    codes = ", ".join(lead.icd10)
    detail = [f"**{lead.name}** (score {lead.score:.2f}{'; ICD-10 ' + codes if codes else ''})"]
    if report.localisation.site:
        detail += ["", f"Lesion localised to: {report.localisation.site}."]
    if top is not None and top.for_:
        detail += ["", "**Evidence for**", *_evidence_lines(top.for_)]
    if top is not None and top.against:
        detail += ["", "**Evidence against**", *_evidence_lines(top.against, 3)]
    others = [f"{d.name} ({d.score:.2f})" for d in report.differential[1:4]]
    if others:
        detail += ["", "Also considered: " + "; ".join(others) + "."]
    detail += ["", f"_{DISCLAIMER}_"]
    return {
        "uuid": str(uuid.uuid4()),
        "summary": short(f"dxrx: most consistent with {lead.name} (score {lead.score:.2f})"),
        "indicator": "info",
        "detail": "\n".join(detail),
        "source": _source(url),
    }


def red_flag_card(flag: RedFlagHit, url: str) -> dict[str, Any]:
    detail = [f"**{flag.name}** ({flag.urgency})", "", flag.concern, "", f"Action: {flag.action}"]
    if flag.evidence:
        detail += ["", "**Evidence**", *_evidence_lines(flag.evidence)]
    return {
        "uuid": str(uuid.uuid4()),
        "summary": short(f"Red flag: {flag.name} — {flag.action}"),
        "indicator": "critical" if flag.urgency in CRITICAL_URGENCY else "warning",
        "detail": "\n".join(detail),
        "source": _source(url),
    }


def link_card(url: str) -> dict[str, Any]:
    return {
        "uuid": str(uuid.uuid4()),
        "summary": "Full dxrx work-up: differential, treatment and rehabilitation plan",
        "indicator": "info",
        "source": _source(url),
        "links": [{"label": "Open the dxrx work-up", "url": url, "type": "absolute"}],
    }


def cards_for(report: Report, url: str) -> list[dict[str, Any]]:
    return [
        leading_card(report, url),
        *(red_flag_card(flag, url) for flag in report.red_flags),
        link_card(url),
    ]


# ---- routes --------------------------------------------------------------------------


@router.get("/cds-services", summary="CDS Hooks discovery")
def discovery() -> dict[str, Any]:
    return {"services": [SERVICE]}


@router.post(
    f"/cds-services/{SERVICE_ID}",
    summary="CDS Hooks patient-view: cards for the leading diagnosis and red flags",
    responses={400: {}, 412: {}},
)
async def patient_view(
    request: Request,
    store: Annotated[Store, Depends(get_store)],
    kb: Annotated[KnowledgeBase, Depends(get_kb)],
    who: Annotated[str, Depends(actor)],
) -> JSONResponse:
    if not is_json_type(request.headers.get("content-type")):
        raise HTTPException(status_code=415, detail="send the hook request as application/json")
    doc = parse_json_body(await request.body(), "the hook request")
    patient_id, prefetch = _request(doc)
    bundle = prefetch_bundle(patient_id, prefetch)
    if not bundle["entry"]:
        raise HTTPException(status_code=412, detail="the prefetch holds no resources to read")
    from dxrx.fhir import parse_bundle

    try:
        await run_in_threadpool(parse_bundle, bundle, "the prefetch")
    except InputError as exc:
        raise _bad(str(exc)) from None
    try:
        limit = get_settings(request).max_case_chars
        report, _fmt = await run_in_threadpool(lambda: analyze_input(bundle, kb, max_chars=limit))
    except CaseTooLarge:
        raise
    except InputError:
        return JSONResponse({"cards": []})  # valid FHIR, but no case to work up in this chart
    text = json.dumps(bundle, ensure_ascii=False)
    saved = await run_in_threadpool(
        lambda: store.save(input_text=text, input_format="fhir", report=report, actor=who)
    )
    note_analysis(request, saved.id)
    base = get_settings(request).public_url or str(request.base_url).rstrip("/")
    url = f"{base}/analyses/{saved.id}"
    return JSONResponse({"cards": cards_for(report, url)})
