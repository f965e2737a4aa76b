"""The anatomy figure: an innervation diagram drawn from the KB for the localised lesion."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from dxrx.kb import KnowledgeBase
from dxrx.model import Localisation, Report
from dxrx.pipeline import analyze_record
from dxrx.report.figure import MAX_MUSCLES, anatomy_svg

SVG = "{http://www.w3.org/2000/svg}"
ABDUCTORS = {"gluteus-medius", "gluteus-minimus", "tensor-fasciae-latae"}


@pytest.fixture(scope="module")
def seed(kb: KnowledgeBase, seed_record: dict[str, Any]) -> Report:
    return analyze_record(seed_record, kb)


def _with(report: Report, **loc: Any) -> Report:
    """The seed report with its localisation replaced, to draw other lesions cheaply."""
    localisation = Localisation(reasoning="test", **loc)
    return report.model_copy(update={"localisation": localisation})


def _parse(svg: str | None) -> ET.Element:
    assert svg is not None
    return ET.fromstring(svg)


def _nodes(root: ET.Element) -> dict[str, set[str]]:
    """data-id -> CSS classes of every node group."""
    return {
        g.attrib["data-id"]: set(g.attrib.get("class", "").split())
        for g in root.iter(f"{SVG}g")
        if "data-id" in g.attrib
    }


def _edges(root: ET.Element) -> set[tuple[str, str]]:
    return {(p.attrib["data-from"], p.attrib["data-to"]) for p in root.iter(f"{SVG}path")}


def test_seed_figure_marks_the_lesion_and_the_involved_abductors(
    seed: Report, kb: KnowledgeBase
) -> None:
    svg = anatomy_svg(seed, kb)
    root = _parse(svg)
    nodes = _nodes(root)
    assert {"nerve", "lesion"} <= nodes["superior-gluteal-nerve"]
    affected = {m.id for m in kb.muscles.values() if m.name in seed.localisation.affected_muscles}
    assert ABDUCTORS <= affected
    for muscle in ABDUCTORS:
        assert {"muscle", "involved"} <= nodes[muscle], muscle
        assert ("superior-gluteal-nerve", muscle) in _edges(root)
    assert {"L4", "L5", "S1"} <= {k for k, v in nodes.items() if "root" in v}
    assert "plexus" in nodes["sacral-plexus"]
    assert ("sacral-plexus", "superior-gluteal-nerve") in _edges(root)
    title = root.find(f"{SVG}text")
    assert title is not None
    assert title.text == "Lesion: Superior gluteal nerve — 3 muscles supplied, 3 involved"


def test_svg_is_self_contained_scalable_and_accessible(seed: Report, kb: KnowledgeBase) -> None:
    svg = anatomy_svg(seed, kb)
    assert svg is not None
    root = _parse(svg)
    assert root.attrib["role"] == "img"
    assert "Superior gluteal nerve" in root.attrib["aria-label"]
    assert root.attrib["width"] == "100%"
    assert re.fullmatch(r"0 0 [\d.]+ [\d.]+", root.attrib["viewBox"])
    assert not re.search(r"<script|href=|@import|url\((?!#)", svg)
    sizes = [float(e.attrib["font-size"]) for e in root.iter() if "font-size" in e.attrib]
    assert sizes and min(sizes) >= 11
    assert all(
        g.find(f"{SVG}title") is not None for g in root.iter(f"{SVG}g") if "data-id" in g.attrib
    )
    assert anatomy_svg(seed, kb) == svg  # deterministic


def test_root_lesion_draws_the_root_and_its_muscles_by_nerve(
    seed: Report, kb: KnowledgeBase
) -> None:
    report = _with(
        seed,
        site="C5 nerve root",
        site_id="C5",
        kind="root",
        affected_muscles=["Deltoid", "Supraspinatus"],
    )
    root = _parse(anatomy_svg(report, kb))
    nodes = _nodes(root)
    assert {"root", "lesion"} <= nodes["C5"]
    assert [k for k, v in nodes.items() if "root" in v] == ["C5"]
    assert {"muscle", "involved"} <= nodes["deltoid"]
    assert ("axillary-nerve", "deltoid") in _edges(root)
    assert ("suprascapular-nerve", "supraspinatus") in _edges(root)
    drawn = {k for k, v in nodes.items() if "muscle" in v}
    assert drawn <= kb.muscles_of_site["C5"] | {"more"}
    assert "distal" in nodes["axillary-nerve"]


def test_large_territory_is_capped_with_a_more_row(seed: Report, kb: KnowledgeBase) -> None:
    supplied = kb.muscles_of_site["S1"]
    assert len(supplied) > MAX_MUSCLES
    report = _with(seed, site="S1 nerve root", site_id="S1", kind="root")
    root = _parse(anatomy_svg(report, kb))
    nodes = _nodes(root)
    assert len([k for k, v in nodes.items() if "muscle" in v and k != "more"]) == MAX_MUSCLES
    more = next(g for g in root.iter(f"{SVG}g") if g.attrib.get("data-id") == "more")
    texts = [t.text for t in more.iter(f"{SVG}text")]
    assert texts == [f"+{len(supplied) - MAX_MUSCLES} more muscles"]


def test_nerve_lesion_colours_only_its_branches_distal(seed: Report, kb: KnowledgeBase) -> None:
    report = _with(
        seed,
        site="Radial nerve",
        site_id="radial-nerve",
        kind="nerve",
        affected_muscles=["Extensor digitorum"],
        spared=["Triceps brachii"],
    )
    nodes = _nodes(_parse(anatomy_svg(report, kb)))
    assert "lesion" in nodes["radial-nerve"]
    assert "distal" in nodes["posterior-interosseous-nerve"]
    assert "distal" not in nodes["posterior-cord"]
    assert "plexus" in nodes["posterior-cord"]
    assert {"muscle", "spared"} <= nodes["triceps-brachii"]
    assert "involved" not in nodes["triceps-brachii"]
    assert {"muscle", "involved"} <= nodes["extensor-digitorum"]
    assert "musculocutaneous-nerve" not in nodes  # another cord's nerve is out of scope


def test_spared_muscle_outside_the_territory_is_drawn_with_its_nerve(
    seed: Report, kb: KnowledgeBase
) -> None:
    loc = seed.localisation.model_dump()
    loc.update(spared=["Gluteus maximus"])
    loc.pop("reasoning")
    root = _parse(anatomy_svg(_with(seed, **loc), kb))
    nodes = _nodes(root)
    assert {"muscle", "spared"} <= nodes["gluteus-maximus"]
    assert ("inferior-gluteal-nerve", "gluteus-maximus") in _edges(root)
    assert "lesion" not in nodes["inferior-gluteal-nerve"]


def test_no_site_groups_the_involved_muscles_by_nerve(seed: Report, kb: KnowledgeBase) -> None:
    report = _with(seed, site=None, affected_muscles=["Deltoid", "Tibialis anterior"])
    root = _parse(anatomy_svg(report, kb))
    nodes = _nodes(root)
    assert not any("lesion" in v for v in nodes.values())
    assert ("deep-fibular-nerve", "tibialis-anterior") in _edges(root)
    assert {"muscle", "involved"} <= nodes["deltoid"]


def test_nothing_localised_gives_no_figure(seed: Report, kb: KnowledgeBase) -> None:
    assert anatomy_svg(_with(seed, site=None), kb) is None
    assert anatomy_svg(_with(seed, site=None, affected_muscles=["Not a muscle"]), kb) is None


def test_text_is_escaped(seed: Report, kb: KnowledgeBase) -> None:
    report = _with(seed, site='Nerve <b>"&', site_id="superior-gluteal-nerve", kind="nerve")
    svg = anatomy_svg(report, kb)
    assert svg is not None
    root = _parse(svg)  # would raise on a raw < or &
    assert "<b>" not in svg
    assert "&lt;b&gt;" in svg
    title = root.find(f"{SVG}text")
    assert title is not None and title.text is not None
    assert title.text.startswith('Lesion: Nerve <b>"&')
