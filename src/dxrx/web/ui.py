"""Browser pages: case entry, the work-up, history and the knowledge-base browser.

Server-rendered HTML that works without JavaScript; one small script adds
conveniences (loading the worked example, highlighting the cited passage and
figure nodes, filtering the condition list). The report page renders the same
``report_body.html.j2`` as the HTML/PDF report, so the browser and the file
show one work-up.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

from dxrx import DISCLAIMER, __version__
from dxrx.errors import InputError
from dxrx.kb.loader import KnowledgeBase
from dxrx.kb.schema import Condition, FindingRule
from dxrx.model import Report
from dxrx.reason.score import EVOKE_PHRASE, FREQ_WORD
from dxrx.report.html import Source, report_context, report_style
from dxrx.store import Store
from dxrx.web.deps import actor, get_kb, get_store, note_analysis
from dxrx.web.security import csrf_token, verify_csrf
from dxrx.web.service import BODY, analyze_input

router = APIRouter(include_in_schema=False)

StoreDep = Annotated[Store, Depends(get_store)]
KbDep = Annotated[KnowledgeBase, Depends(get_kb)]
ActorDep = Annotated[str, Depends(actor)]

PAGE_SIZE = 20
MAX_QUERY = 200
DOWNLOADS = (
    ("pdf", "PDF"),
    ("fhir", "FHIR Bundle"),
    ("json", "JSON"),
    ("html", "HTML"),
    ("md", "Markdown"),
)
_ANALYSIS_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_DATA_ID = re.compile(r'data-id="([^"]+)"')


@cache
def _env() -> Environment:
    """Our templates first, then the report's (for ``report_body.html.j2``), one escaping rule."""
    env = Environment(
        loader=ChoiceLoader(
            [PackageLoader("dxrx.web", "templates"), PackageLoader("dxrx.report", "templates")]
        ),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = lambda x: f"{100 * float(x):.1f} %"
    env.filters["signed"] = lambda x: f"{float(x):+.2f}"
    env.globals["version"] = __version__
    env.globals["disclaimer"] = DISCLAIMER
    return env


@cache
def seed_example() -> str:
    """The worked example as case text, shipped in the package (the repo's examples/ is not)."""
    path = resources.files("dxrx.web").joinpath("examples/seed-case.txt")
    return path.read_text("utf-8").strip()


def _page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    html = _env().get_template(template).render(root=root, **context)
    return HTMLResponse(html, status_code=status)


def _not_found(request: Request, what: str) -> HTMLResponse:
    return _page(request, "not_found.html.j2", 404, what=what, nav="")


# --- case entry ---------------------------------------------------------------


def _entry(request: Request, text: str, error: str | None, status: int = 200) -> HTMLResponse:
    """The case form; on an error it comes back with the user's text untouched."""
    return _page(
        request,
        "index.html.j2",
        status,
        nav="new",
        text=text,
        error=error,
        example=seed_example(),
        csrf=csrf_token(request),
    )


@router.get("/", response_class=HTMLResponse)
def case_entry(request: Request, example: str | None = None) -> HTMLResponse:
    """The case form; ``?example=seed`` fills it with the worked example (no script needed)."""
    return _entry(request, seed_example() if example == "seed" else "", None)


def _parse_body(text: str) -> str | dict[str, Any]:
    """Free text as is; something that looks like a JSON object must parse as one."""
    stripped = text.strip()
    if not stripped.startswith("{"):
        return text
    try:
        doc = json.loads(stripped)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"This looks like JSON but cannot be read: {exc.msg} at line {exc.lineno} "
            f"column {exc.colno}. Paste free text, a JSON case or a FHIR Bundle."
        ) from None
    if not isinstance(doc, dict):
        raise InputError("A JSON case must be an object")
    return doc


def _for_people(message: str) -> str:
    """The service names the input "the request body"; on a form it is the case."""
    return message.replace(BODY, "the case")


@router.post("/analyze", response_model=None)
def analyze(
    request: Request,
    store: StoreDep,
    kb: KbDep,
    who: ActorDep,
    text: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form(alias="csrf_token")] = "",
) -> Response:
    """Analyse the pasted case, keep it, and show its work-up (POST-redirect-GET)."""
    try:
        verify_csrf(request, csrf)
    except HTTPException as exc:
        message = (
            "This form has expired or was not sent from this dxrx page, so it was not analysed. "
            "Your text is still here: press Analyse again."
        )
        return _entry(request, text, message, exc.status_code)
    if not text.strip():
        return _entry(
            request, text, "Paste a case first: free text, a JSON case or a FHIR Bundle.", 400
        )
    try:
        report, input_format = analyze_input(_parse_body(text), kb)
    except InputError as exc:
        return _entry(request, text, _for_people(str(exc)), 422)
    stored = store.save(input_text=text, input_format=input_format, report=report, actor=who)
    note_analysis(request, stored.id)
    root = request.scope.get("root_path", "")
    return RedirectResponse(f"{root}/analyses/{stored.id}", status_code=303)


# --- the work-up --------------------------------------------------------------


def figure_links(
    report: Report, source: Source, figure: str | None, kb: KnowledgeBase
) -> dict[str, Any]:
    """What the page script needs to light up figure nodes: ids per cited passage, and names.

    ``passages`` maps a passage anchor to the figure nodes its findings name;
    ``nodes`` maps every figure node to its name, so evidence that names a
    muscle or nerve in words (e.g. the localisation) can be matched too.
    """
    drawn = list(dict.fromkeys(_DATA_ID.findall(figure or "")))
    shown = set(drawn)
    passages: dict[str, list[str]] = {}
    for finding in report.case.findings:
        anchor = source.link(finding.span)
        if anchor is None:
            continue
        ids = passages.setdefault(anchor, [])
        ids.extend(s for s in finding.structures if s in shown and s not in ids)
    return {
        "passages": {a: ids for a, ids in passages.items() if ids},
        "nodes": {i: kb.name_of(i) for i in drawn},
    }


@router.get("/ui/report.css", include_in_schema=False)
def report_css() -> Response:
    """The report's own stylesheet, served so the page needs no inline style."""
    return Response(
        report_style(),
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.get("/analyses/{analysis_id}", response_class=HTMLResponse)
def analysis_page(
    request: Request, analysis_id: str, store: StoreDep, kb: KbDep, who: ActorDep
) -> HTMLResponse:
    """The stored work-up in the site layout, with downloads; each view is audited."""
    stored = store.get(analysis_id) if _ANALYSIS_ID.match(analysis_id) else None
    if stored is None:
        return _not_found(request, "analysis")
    store.audit(actor=who, action="view", analysis_id=stored.id)
    note_analysis(request, stored.id)
    context = report_context(stored.report, kb)
    links = figure_links(stored.report, context["source"], context["figure"], kb)
    return _page(
        request,
        "analysis.html.j2",
        nav="",
        analysis=stored,
        downloads=DOWNLOADS,
        links=links,
        **context,
    )


# --- history ------------------------------------------------------------------


def _page_number(raw: str) -> int:
    try:
        return max(1, int(raw))
    except ValueError:
        return 1


@router.get("/analyses", response_class=HTMLResponse)
def history(request: Request, store: StoreDep, q: str = "", page: str = "1") -> HTMLResponse:
    """Past analyses, newest first, searchable by diagnosis and case text."""
    query = q.strip()[:MAX_QUERY]
    number = _page_number(page)
    items, total = store.list(offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE, query=query or None)
    return _page(
        request,
        "history.html.j2",
        nav="history",
        items=items,
        total=total,
        q=query,
        page=number,
        pages=max(1, math.ceil(total / PAGE_SIZE)),
    )


# --- knowledge base -----------------------------------------------------------


def _search_text(c: Condition) -> str:
    return " ".join([c.id, c.name, *c.aliases, *c.icd10, *c.snomed, c.category]).casefold()


@router.get("/conditions", response_class=HTMLResponse)
def conditions(request: Request, kb: KbDep, q: str = "") -> HTMLResponse:
    """Every condition in the knowledge base, filtered by name, alias, code or category."""
    query = q.strip()[:MAX_QUERY]
    rows = sorted(kb.conditions.values(), key=lambda c: c.name.casefold())
    words = query.casefold().split()
    indexed = [(c, _search_text(c)) for c in rows]
    shown = [(c, s) for c, s in indexed if all(w in s for w in words)]
    return _page(
        request,
        "conditions.html.j2",
        nav="kb",
        rows=shown,
        total=len(rows),
        q=query,
        kb_version=kb.version,
    )


@dataclass
class RuleView:
    """A finding rule said in words, for people rather than the scorer."""

    text: str
    frequency: str
    evoking: str
    note: str | None
    refs: list[str]


def rule_words(kb: KnowledgeBase, rule: FindingRule) -> RuleView:
    parts = [kb.name_of(rule.concept)]
    if rule.actions:
        parts.append("of " + " / ".join(kb.name_of(a) for a in rule.actions))
    where = [kb.name_of(s) for s in rule.structures] + [kb.name_of(r) for r in rule.regions]
    if where:
        parts.append("in " + ", ".join(where))
    if rule.sequences:
        parts.append("on " + " / ".join(rule.sequences))
    if rule.modalities:
        parts.append("(" + ", ".join(rule.modalities) + ")")
    return RuleView(
        text=" ".join(parts),
        frequency=f"{FREQ_WORD[rule.frequency]} present",
        evoking=EVOKE_PHRASE[rule.evoking],
        note=rule.note,
        refs=list(rule.refs),
    )


def _condition_refs(c: Condition) -> list[str]:
    """Every reference the condition's entry cites, in order of first appearance."""
    ids = [*c.refs, *c.demographics.refs]
    for rule in [*c.findings, *c.imaging]:
        ids.extend(rule.refs)
    for step in c.treatment:
        ids.extend(step.refs)
    return list(dict.fromkeys(ids))


@router.get("/conditions/{condition_id}", response_class=HTMLResponse)
def condition_page(request: Request, condition_id: str, kb: KbDep) -> HTMLResponse:
    """One condition as the knowledge base holds it: codes, findings, treatment, protocol."""
    cond = kb.conditions.get(condition_id)
    if cond is None:
        return _not_found(request, "condition")
    protocol = kb.protocols.get(cond.rehab_protocol)
    return _page(
        request,
        "condition.html.j2",
        nav="kb",
        c=cond,
        regions=[kb.name_of(r) for r in cond.body_regions],
        sites=[kb.name_of(s) for s in cond.lesion_sites],
        muscles=[kb.name_of(m) for m in cond.target_muscles],
        differentials=[(d, kb.name_of(d), d in kb.conditions) for d in cond.differentials],
        red_flags=[kb.red_flags[f] for f in cond.red_flags if f in kb.red_flags],
        findings=[rule_words(kb, r) for r in cond.findings],
        imaging=[rule_words(kb, r) for r in cond.imaging],
        protocol=protocol,
        references=[kb.references[r] for r in _condition_refs(cond) if r in kb.references],
        kb_version=kb.version,
    )
