"""report: Report -> text in the requested format."""

from __future__ import annotations

from dxrx.model import Report
from dxrx.report.handout import render_handout
from dxrx.report.markdown import render_markdown

FORMATS = ("md", "json", "handout")


def render(report: Report, fmt: str) -> str:
    if fmt == "json":
        return report.model_dump_json(by_alias=True, indent=2) + "\n"
    if fmt == "md":
        return render_markdown(report)
    if fmt == "handout":
        return render_handout(report.plan, report.disclaimer)
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
