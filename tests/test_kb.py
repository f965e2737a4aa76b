"""Knowledge base: schema, integrity, coverage, and that lint catches breakage."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import pytest

from dxrx.kb import KbError, KnowledgeBase, lint, load_dir

DATA = Path(str(resources.files("dxrx.kb").joinpath("data")))
HIP_PELVIS_CORE = {
    "gluteal",
    "iliopsoas",
    "medial thigh",
    "anterior thigh",
    "posterior thigh",
    "trunk",
    "core",
    "pelvic floor",
    "abdominal wall",
    "lateral rotators",
    "deep gluteal",
    "back",
}

LUMBOSACRAL_NERVES = [
    "superior-gluteal-nerve",
    "inferior-gluteal-nerve",
    "sciatic-nerve",
    "tibial-nerve",
    "common-fibular-nerve",
    "femoral-nerve",
    "obturator-nerve",
    "lateral-femoral-cutaneous-nerve",
    "pudendal-nerve",
    "posterior-femoral-cutaneous-nerve",
    "nerve-to-piriformis",
    "nerve-to-obturator-internus",
    "nerve-to-quadratus-femoris",
    "genitofemoral-nerve",
    "ilioinguinal-nerve",
    "iliohypogastric-nerve",
]


def test_shipped_kb_is_clean(kb: KnowledgeBase) -> None:
    assert lint(kb) == []


def test_scope_of_v1(kb: KnowledgeBase) -> None:
    assert {f"L{i}" for i in range(1, 6)} | {f"S{i}" for i in range(1, 5)} <= set(kb.roots)
    for nerve in LUMBOSACRAL_NERVES:
        assert nerve in kb.nerves, nerve
    assert len(kb.conditions) >= 20
    assert len(kb.muscles) >= 50


def test_whole_body_scope(kb: KnowledgeBase) -> None:
    # issue 4: at least 200 conditions; roots C5-T1 and L2-S1; the brachial plexus and the
    # classic upper-limb nerves with their branches; cranial motor nerves
    assert len(kb.conditions) >= 200
    assert {"C5", "C6", "C7", "C8", "T1", "L2", "L3", "L4", "L5", "S1"} <= set(kb.roots)
    for nerve in (
        "suprascapular-nerve",
        "axillary-nerve",
        "long-thoracic-nerve",
        "musculocutaneous-nerve",
        "anterior-interosseous-nerve",
        "posterior-interosseous-nerve",
        "superficial-radial-nerve",
        "ulnar-nerve",
        "spinal-accessory-nerve",
        "hypoglossal-nerve",
        "mandibular-nerve",
    ):
        assert nerve in kb.nerves, nerve
    assert "infraspinatus" in kb.muscles_of_site["suprascapular-nerve"]
    assert "teres-minor" in kb.muscles_of_site["axillary-nerve"]
    assert "masseter" in kb.muscles_of_site["mandibular-nerve"]
    assert "flexor-pollicis-longus" in kb.muscles_of_site["anterior-interosseous-nerve"]
    assert "flexor-pollicis-longus" not in kb.muscles_of_site["posterior-interosseous-nerve"]
    assert len(kb.exercises) >= 150


def test_at_least_30_hip_pelvis_core_exercises(kb: KnowledgeBase) -> None:
    region = {
        m.id
        for m in kb.muscles.values()
        if any(word in m.group.lower() for word in HIP_PELVIS_CORE)
    }
    assert len(region) > 20
    hip_core = [ex for ex in kb.exercises.values() if set(ex.targets) & region]
    assert len(hip_core) >= 30


def test_every_exercise_names_its_contraindications(kb: KnowledgeBase) -> None:
    assert [ex.id for ex in kb.exercises.values() if not ex.contraindications] == []


def test_each_major_limb_nerve_has_a_slider_and_a_tensioner(kb: KnowledgeBase) -> None:
    neural = {ex.id for ex in kb.exercises.values() if ex.category == "neural"}
    for nerve in (
        "sciatic",
        "femoral",
        "tibial",
        "common-fibular",
        "median-nerve",
        "ulnar-nerve",
        "radial-nerve",
    ):
        assert {f"{nerve}-slider", f"{nerve}-tensioner"} <= neural, nerve


def test_protocol_stages_state_their_weeks(kb: KnowledgeBase) -> None:
    """Every stage but an open-ended last one says how long it typically lasts; a
    post-operative track always leads on to the main protocol, so all of its stages do."""
    for proto in kb.protocols.values():
        assert all(st.weeks for st in proto.stages[:-1]), proto.id
        if proto.post_operative:
            assert all(st.weeks for st in proto.post_operative.stages), proto.id


def test_sport_drills_join_plans_only_through_an_activity(kb: KnowledgeBase) -> None:
    only = {ex.id for ex in kb.exercises.values() if ex.activity_only}
    assert only, "sport-specific drills are flagged"
    drills = {d for act in kb.activities.values() for d in act.drills}
    assert only <= drills  # a flagged drill nobody can reach is dead data


def test_every_condition_is_complete(kb: KnowledgeBase) -> None:
    for cond in kb.conditions.values():
        assert cond.imaging, cond.id
        assert cond.refs, cond.id
        assert cond.rehab_protocol in kb.protocols, cond.id
        phases = {t.phase for t in cond.treatment}
        assert phases & {"education", "conservative"}, cond.id


def test_key_innervation_facts(kb: KnowledgeBase) -> None:
    sgn = kb.muscles_of_site["superior-gluteal-nerve"]
    assert {"gluteus-medius", "gluteus-minimus", "tensor-fasciae-latae"} <= sgn
    assert "gluteus-maximus" not in sgn
    assert "gluteus-maximus" in kb.muscles_of_site["inferior-gluteal-nerve"]
    assert "tibialis-anterior" in kb.muscles_of_site["common-fibular-nerve"]
    assert "tibialis-anterior" in kb.muscles_of_site["sciatic-nerve"]
    assert "tibialis-anterior" in kb.muscles_of_site["L4"] | kb.muscles_of_site["L5"]
    assert "iliacus" in kb.muscles_of_site["femoral-nerve"]


def _copy(tmp_path: Path) -> Path:
    dst = tmp_path / "data"
    shutil.copytree(DATA, dst)
    return dst


def test_lint_reports_broken_cross_references(tmp_path: Path) -> None:
    data = _copy(tmp_path)
    muscles = data / "anatomy" / "muscles-lower-limb.yaml"
    text = muscles.read_text()
    muscles.write_text(text.replace("superior-gluteal-nerve", "superior-gluteal-nerv", 1))
    problems = lint(load_dir(data))
    assert any("unknown nerve 'superior-gluteal-nerv'" in p for p in problems)


def test_lint_allows_a_shared_phrase_only_across_limb_segments(tmp_path: Path) -> None:
    data = _copy(tmp_path)
    assert not lint(load_dir(data))  # "anterior compartment": thigh, leg, arm and forearm
    leg = data / "anatomy" / "structures-ankle-foot.yaml"
    text = leg.read_text()
    # the lateral compartment of the leg now also claims the phrase the anterior one owns
    leg.write_text(
        text.replace(
            "synonyms: [lateral compartment,",
            "synonyms: [anterior compartment, lateral compartment,",
            1,
        )
    )
    problems = lint(load_dir(data))
    assert any("'anterior compartment'" in p for p in problems), problems


def test_lint_reports_a_label_owned_by_two_conditions(tmp_path: Path) -> None:
    data = _copy(tmp_path)
    cond = data / "conditions" / "gluteal-tendinopathy.yaml"
    text = cond.read_text()
    cond.write_text(
        text.replace("  aliases:\n", "  aliases:\n    - Superior gluteal nerve entrapment\n", 1)
    )
    problems = lint(load_dir(data))
    assert any("diagnosis label 'superior gluteal nerve entrapment'" in p.lower() for p in problems)


def test_lint_reports_unknown_concept_and_reference(tmp_path: Path) -> None:
    data = _copy(tmp_path)
    cond = data / "conditions" / "superior-gluteal-nerve-entrapment.yaml"
    text = cond.read_text()
    text = text.replace("concept: weakness", "concept: weaknes", 1)
    cond.write_text(text)
    problems = lint(load_dir(data))
    assert any("unknown finding concept 'weaknes'" in p for p in problems)


def test_schema_rejects_missing_reference(tmp_path: Path) -> None:
    data = _copy(tmp_path)
    bad = data / "anatomy" / "zz-bad.yaml"
    bad.write_text(
        "muscles:\n  - id: extra-muscle\n    name: Extra\n    group: gluteal\n"
        "    nerves: [superior-gluteal-nerve]\n    roots: [L5]\n    actions: [hip-abduction]\n"
        "    origin: ilium\n    insertion: femur\n    refs: []\n"
    )
    with pytest.raises(KbError, match=r"zz-bad.yaml: muscles\[0\]\.refs"):
        load_dir(data)


def test_schema_rejects_unknown_keys(tmp_path: Path) -> None:
    data = _copy(tmp_path)
    (data / "zz.yaml").write_text("red_flags:\n  - id: x\n    colour: red\n")
    with pytest.raises(KbError, match="colour"):
        load_dir(data)


def test_compiled_kb_cache_is_written_reused_and_survives_corruption(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dxrx.kb import loader

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("DXRX_KB_CACHE", raising=False)
    loader.load_kb.cache_clear()
    try:
        first = loader.load_kb()
        cached = list((tmp_path / "dxrx").glob("kb-*.pickle"))
        assert len(cached) == 1
        loader.load_kb.cache_clear()
        assert loader.load_kb().version == first.version
        cached[0].write_bytes(b"not a pickle")
        loader.load_kb.cache_clear()
        again = loader.load_kb()
        assert again.version == first.version and len(again.conditions) == len(first.conditions)
    finally:
        loader.load_kb.cache_clear()
