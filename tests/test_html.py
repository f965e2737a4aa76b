"""HTML and PDF work-ups: structure (not pixels), source links, escaping, pages."""

from __future__ import annotations

import io
from html.parser import HTMLParser
from typing import Any

import pytest

from conftest import needs_pdf
from dxrx.kb import KnowledgeBase
from dxrx.model import Report
from dxrx.pipeline import analyze_record, analyze_text
from dxrx.report import render, render_pdf_report
from dxrx.report.html import source_passages


class Outline(HTMLParser):
    """Collects what a structure snapshot needs: ids, links, headings, tags seen."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.sections: list[str] = []
        self.tags: list[str] = []
        self.external: list[str] = []
        self.classes: dict[str, int] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append(tag)
        if a.get("id"):
            self.ids.add(str(a["id"]))
        if tag == "section" and a.get("id"):
            self.sections.append(str(a["id"]))
        href = a.get("href") or ""
        if tag == "a" and href:
            self.links.append(href)
        for attr in ("src", "href"):
            value = a.get(attr) or ""
            if value.startswith(("http:", "https:", "//")):
                self.external.append(value)
        for cls in (a.get("class") or "").split():
            self.classes[cls] = self.classes.get(cls, 0) + 1


@pytest.fixture(scope="module")
def seed_report(kb: KnowledgeBase, seed_record: dict[str, Any]) -> Report:
    return analyze_record(seed_record, kb)


@pytest.fixture(scope="module")
def seed_html(kb: KnowledgeBase, seed_report: Report) -> str:
    return render(seed_report, "html", kb)


def outline(html: str) -> Outline:
    parser = Outline()
    parser.feed(html)
    return parser


def test_html_has_every_section_in_order(seed_html: str) -> None:
    o = outline(seed_html)
    assert o.sections == [
        "summary",
        "case",
        "imaging",
        "localisation",
        "differential",
        "red-flags",
        "treatment",
        "rehabilitation",
        "handout",
        "references",
    ]
    assert "<title>dxrx work-up: Superior gluteal nerve entrapment" in seed_html
    assert 'name="viewport"' in seed_html and "@media print" in seed_html


def test_every_internal_link_resolves(seed_html: str) -> None:
    o = outline(seed_html)
    internal = [h[1:] for h in o.links if h.startswith("#")]
    assert internal, "the report links findings to their source"
    assert [h for h in internal if h not in o.ids] == []
    assert o.external == []  # self-contained: nothing fetched


def test_findings_and_evidence_link_to_the_case_words(seed_html: str, seed_report: Report) -> None:
    o = outline(seed_html)
    marks = {i for i in o.ids if i.startswith("src-")}
    assert len(marks) >= 3
    src_links = [h for h in o.links if h.startswith("#src-")]
    # each extracted finding row and each piece of cited evidence has a source link
    assert len(src_links) >= len(seed_report.case.findings)
    source = source_passages(seed_report.case)
    lead = seed_report.differential[0]
    ev = next(e for e in lead.for_ if e.span is not None)
    anchor = source.link(ev.span)
    assert anchor is not None
    marked = next(p for p in source.passages if p.anchor == anchor)
    assert ev.span is not None and ev.span.text.strip() in "".join(t for t, _ in marked.parts)


def test_plan_is_tabulated_with_all_six_fitt_vp_rows(seed_html: str, seed_report: Report) -> None:
    stages = seed_report.plan.rehabilitation.stages
    assert seed_html.count('class="fitt"') == len(stages)
    for row in ("Frequency", "Intensity", "Time", "Type", "Volume", "Progression"):
        assert seed_html.count(f"<th>{row}</th>") == len(stages)
    assert seed_html.count('class="stage current"') == 1
    first_ex = stages[0].exercises[0].name
    assert first_ex in seed_html


def test_anatomy_figure_highlights_the_lesion(seed_html: str) -> None:
    o = outline(seed_html)
    assert "svg" in o.tags
    assert 'data-id="superior-gluteal-nerve"' in seed_html
    assert o.classes.get("lesion", 0) >= 1


def test_case_text_is_escaped(kb: KnowledgeBase) -> None:
    text = (
        "History: A 40-year-old man <script>alert(1)</script> with buttock pain & weakness "
        "of hip abduction for 3 months. Imaging: MRI shows oedema of gluteus medius."
    )
    html = render(analyze_text(text, kb), "html", kb)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@needs_pdf
def test_pdf_has_the_report_and_the_handout_on_its_own_pages(
    kb: KnowledgeBase, seed_report: Report
) -> None:
    pypdf = pytest.importorskip("pypdf")
    pdf = render_pdf_report(seed_report, kb)
    assert pdf.startswith(b"%PDF")
    pages = [p.extract_text() or "" for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]
    assert 4 <= len(pages) <= 40
    assert "Superior gluteal nerve entrapment" in pages[0]
    assert f"page 1 of {len(pages)}" in pages[0]
    handout = next(i for i, t in enumerate(pages) if "Patient handout" in t)
    assert pages[handout].lstrip().startswith("Patient handout")  # starts a new page
    assert handout > 1
    assert "Week by week" in "".join(pages[handout:])
