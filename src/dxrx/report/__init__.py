"""report: Report -> text in the requested format, or a PDF."""

from __future__ import annotations

import json

from dxrx.kb.loader import KnowledgeBase, load_kb
from dxrx.model import Report
from dxrx.report.handout import render_handout
from dxrx.report.markdown import render_markdown

TEXT_FORMATS = ("md", "json", "handout", "html", "fhir")
FORMATS = (*TEXT_FORMATS, "pdf")


def render(report: Report, fmt: str, kb: KnowledgeBase | None = None) -> str:
    """The report as text in one of ``TEXT_FORMATS``."""
    if fmt == "json":
        return report.model_dump_json(by_alias=True, indent=2) + "\n"
    if fmt == "md":
        return render_markdown(report)
    if fmt == "handout":
        return render_handout(report.plan, report.disclaimer)
    if fmt == "html":
        from dxrx.report.html import render_html

        return render_html(report, kb or load_kb())
    if fmt == "fhir":
        from dxrx.fhir import report_to_bundle

        return json.dumps(report_to_bundle(report, kb or load_kb()), indent=2) + "\n"
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def render_pdf_report(report: Report, kb: KnowledgeBase | None = None) -> bytes:
    """The HTML work-up printed to PDF."""
    from dxrx.report.html import render_html, render_pdf

    return render_pdf(render_html(report, kb or load_kb()))
