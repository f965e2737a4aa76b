"""HTML work-up (and the PDF printed from it): the Markdown report's content, laid out to read.

Every finding and every piece of evidence links to the words of the case it
came from: the case text is shown with those passages marked, and a link
jumps to (and, through CSS ``:target``, highlights) the passage. The page is
self-contained — styles and the anatomy figure are inline, nothing is fetched
— so it opens offline, prints on A4 and reads on a phone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from dxrx.errors import OutputError
from dxrx.kb.loader import KnowledgeBase
from dxrx.model import Case, Report, Span
from dxrx.report.figure import anatomy_svg
from dxrx.report.handout import INTRO, handout
from dxrx.report.markdown import patient_line


@dataclass
class Passage:
    """A stretch of the case text: plain, or a marked passage that findings point to."""

    anchor: str | None
    parts: list[tuple[str, bool]] = field(default_factory=list)  # (text, is the cue)


@dataclass
class Source:
    passages: list[Passage]
    anchors: dict[tuple[int, int], str]

    def link(self, span: Span | None) -> str | None:
        """The anchor of the marked passage holding ``span``, if any."""
        if span is None:
            return None
        exact = self.anchors.get((span.start, span.end))
        if exact is not None:
            return exact
        for (start, end), anchor in self.anchors.items():
            if start <= span.start < end:
                return anchor
        return None


def _cue_parts(text: str, offset: int, cues: list[Span]) -> list[tuple[str, bool]]:
    parts: list[tuple[str, bool]] = []
    pos = 0
    for cue in cues:
        a, b = cue.start - offset, cue.end - offset
        if a < pos or b > len(text):
            continue
        if a > pos:
            parts.append((text[pos:a], False))
        parts.append((text[a:b], True))
        pos = b
    if pos < len(text):
        parts.append((text[pos:], False))
    return parts


def source_passages(case: Case) -> Source:
    """Split the case text into plain stretches and the non-overlapping passages findings cite."""
    spans = sorted({(f.span.start, f.span.end) for f in case.findings}, key=lambda s: (s[0], -s[1]))
    cues = sorted((f.cue for f in case.findings), key=lambda c: (c.start, -c.end))
    taken: list[tuple[int, int]] = []
    for start, end in spans:
        if not taken or start >= taken[-1][1]:
            taken.append((start, end))
    text = case.text
    passages: list[Passage] = []
    anchors: dict[tuple[int, int], str] = {}
    pos = 0
    for n, (start, end) in enumerate(taken, 1):
        if start > pos:
            passages.append(Passage(None, [(text[pos:start], False)]))
        anchor = f"src-{n}"
        anchors[(start, end)] = anchor
        inside = [c for c in cues if start <= c.start and c.end <= end]
        passages.append(Passage(anchor, _cue_parts(text[start:end], start, inside)))
        pos = end
    if pos < len(text):
        passages.append(Passage(None, [(text[pos:], False)]))
    return Source(passages, anchors)


@cache
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("dxrx.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = lambda x: f"{100 * float(x):.1f} %"
    env.filters["signed"] = lambda x: f"{float(x):+.2f}"
    return env


def report_context(report: Report, kb: KnowledgeBase) -> dict[str, Any]:
    """What ``report_body.html.j2`` needs; the web app renders the same body in its layout."""
    svg = anatomy_svg(report, kb)
    intro = INTRO.replace("**{condition}**", "<strong>{condition}</strong>")
    return {
        "r": report,
        "patient": patient_line(report),
        "source": source_passages(report.case),
        "figure": Markup(svg) if svg else None,
        "handout": handout(report.plan),
        "handout_intro": Markup(intro).format(condition=report.plan.condition_name),
    }


def report_style() -> str:
    """The report's stylesheet, inlined so the page needs nothing else."""
    return resources.files("dxrx.report").joinpath("templates/style.css").read_text("utf-8")


def render_html(report: Report, kb: KnowledgeBase) -> str:
    """The full work-up as one self-contained HTML page."""
    return (
        _env()
        .get_template("report.html.j2")
        .render(**report_context(report, kb), style=Markup(report_style()))
    )


def render_pdf(html: str) -> bytes:
    """Print the HTML page to PDF with WeasyPrint (which needs Pango from the system)."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:
        raise OutputError(
            "PDF output needs WeasyPrint and its system libraries (Pango, fonts); install them "
            f"(Debian: libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core) — {exc}"
        ) from exc
    pdf = HTML(string=html).write_pdf()
    if not isinstance(pdf, bytes):
        raise OutputError("WeasyPrint produced no PDF")
    return pdf
