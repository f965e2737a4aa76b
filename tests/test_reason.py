"""Localisation by set cover, denervation staging and red flags on realistic case wording."""

from __future__ import annotations

import pytest

from dxrx.ingest import ingest_text
from dxrx.kb import KnowledgeBase
from dxrx.model import Finding
from dxrx.reason import reason


def _assess(kb: KnowledgeBase, text: str):  # type: ignore[no-untyped-def]
    return reason(ingest_text(text, kb), kb)


@pytest.mark.parametrize(
    ("text", "site"),
    [
        (
            "MRI: STIR hyperintensity in the right tensor fasciae latae, gluteus medius and "
            "gluteus minimus muscles.",
            "superior-gluteal-nerve",
        ),
        (
            "MRI: denervation oedema on STIR in the gluteus maximus only; gluteus medius normal.",
            "inferior-gluteal-nerve",
        ),
        (
            "MRI: high STIR signal in the tibialis anterior, extensor digitorum longus, extensor "
            "hallucis longus, fibularis longus and fibularis brevis.",
            "common-fibular-nerve",
        ),
        (
            "MRI: STIR hyperintensity of the tibialis anterior, tibialis posterior, gluteus medius "
            "and extensor hallucis longus.",
            "L5",
        ),
        (
            "MRI: oedema-like STIR signal in the vastus lateralis, vastus medialis, vastus "
            "intermedius, rectus femoris and sartorius; iliacus normal.",
            "femoral-nerve",
        ),
        (
            "Numbness and burning over the lateral thigh for two months after wearing a tight "
            "belt.",
            "lateral-femoral-cutaneous-nerve",
        ),
    ],
)
def test_localisation(kb: KnowledgeBase, text: str, site: str) -> None:
    loc = _assess(kb, text).localisation
    assert loc.site_id == site, loc.reasoning


def test_spared_muscle_moves_lesion_distal(kb: KnowledgeBase) -> None:
    """Hamstrings spared: a foot-drop pattern is fibular, not sciatic."""
    loc = _assess(
        kb,
        "MRI: STIR hyperintensity of the tibialis anterior and fibularis longus; the biceps "
        "femoris short head is normal.",
    ).localisation
    assert loc.site_id == "common-fibular-nerve"
    assert "Biceps femoris short head" in loc.spared


def test_no_deficit_no_localisation(kb: KnowledgeBase) -> None:
    loc = _assess(kb, "A 60-year-old woman with lateral hip pain lying on that side.").localisation
    assert loc.site is None


@pytest.mark.parametrize(
    ("imaging", "stage"),
    [
        ("MRI: STIR hyperintensity of the gluteus medius and minimus; normal T1 signal.", "acute"),
        (
            "MRI: STIR hyperintensity of the gluteus medius and minimus, with mild increased T1 "
            "signal in keeping with early fatty change.",
            "subacute",
        ),
        (
            "MRI: hyper-intensity of the gluteus medius and minimus on STIR. On T1 weighted "
            "images there was mild increase in signal intensity in the same muscles, "
            "indicating fatty changes.",
            "subacute",
        ),
        (
            "MRI: marked fatty infiltration and atrophy of the gluteus medius and minimus on T1, "
            "no STIR hyperintensity.",
            "chronic",
        ),
    ],
)
def test_denervation_stage(kb: KnowledgeBase, imaging: str, stage: str) -> None:
    assert _assess(kb, imaging).imaging.stage == stage


def test_stage_from_duration_without_denervation(kb: KnowledgeBase) -> None:
    a = _assess(kb, "Lateral hip pain for two weeks after a long run.")
    assert a.imaging.stage == "acute"
    assert "duration" in a.imaging.stage_basis.lower()


def test_red_flags_raised_and_screened(kb: KnowledgeBase) -> None:
    a = _assess(
        kb,
        "A 70-year-old man with buttock pain, weight loss and a history of prostate cancer. "
        "No fever. He fell last week.",
    )
    ids = {f.id for f in a.red_flags}
    assert {"malignancy", "fracture-risk"} <= ids
    assert "infection" not in ids
    assert any("fever" in e.statement for e in a.red_flags_screened_negative)
    for flag in a.red_flags:
        assert flag.evidence and all(e.span is not None for e in flag.evidence)


def test_trauma_is_a_fracture_flag_only_in_the_elderly(kb: KnowledgeBase) -> None:
    young = _assess(kb, "A 25-year-old man fell while skiing and has hip pain.")
    assert "fracture-risk" not in {f.id for f in young.red_flags}


def test_every_entry_has_evidence(kb: KnowledgeBase) -> None:
    a = _assess(
        kb,
        "A 35-year-old runner with groin pain on hip flexion for two months. FADIR positive. "
        "MRI: cam morphology and a labral tear.",
    )
    assert len(a.differential) >= 5
    for d in a.differential[:5]:
        assert d.for_ or d.against
    scores = [d.score for d in a.differential]
    assert scores == sorted(scores, reverse=True)


def _finding(kb: KnowledgeBase, text: str, concept: str) -> Finding:
    case = ingest_text(text, kb)
    return next(f for f in case.findings if f.concept == concept)


def test_weakness_without_a_movement_fits_a_movement_rule_weakly(kb: KnowledgeBase) -> None:
    from dxrx.kb.schema import FindingRule
    from dxrx.reason.match import rule_match

    rule = FindingRule(
        concept="weakness",
        actions=["shoulder-abduction"],
        frequency=3,
        evoking=2,
        refs=["anat-grays-42"],
    )
    vague = _finding(kb, "History: A 45-year-old woman with weakness of the right arm.", "weakness")
    precise = _finding(kb, "Examination: weak shoulder abduction on the right.", "weakness")
    other = _finding(kb, "Examination: weak hip abduction on the right.", "weakness")
    assert 0 < rule_match(kb, rule, vague) < rule_match(kb, rule, precise) == 1.0
    assert rule_match(kb, rule, other) == 0.0


def test_a_denial_about_the_whole_spine_counts_against_each_foramen(kb: KnowledgeBase) -> None:
    from dxrx.kb.schema import FindingRule
    from dxrx.reason.match import rule_match

    rule = FindingRule(
        concept="foraminal-stenosis",
        structures=["c4-c5-foramen"],
        modalities=["MR"],
        frequency=3,
        evoking=3,
        refs=["anat-grays-42"],
    )
    denied = _finding(
        kb, "Imaging: MRI of the cervical spine shows no foraminal narrowing.", "foraminal-stenosis"
    )
    assert denied.negated and rule_match(kb, rule, denied) > 0
    elsewhere = _finding(
        kb, "Imaging: MRI of the lumbar spine shows no foraminal narrowing.", "foraminal-stenosis"
    )
    assert rule_match(kb, rule, elsewhere) == 0.0


def test_wasting_of_a_named_muscle_localises_like_weakness(kb: KnowledgeBase) -> None:
    case = ingest_text(
        "History: A 30-year-old volleyball player with posterior shoulder ache for 4 months. "
        "Examination: wasting of the infraspinatus; supraspinatus bulk is normal.",
        kb,
    )
    wasting = next(f for f in case.findings if f.concept == "shoulder-girdle-wasting")
    assert wasting.structures == ["infraspinatus"]  # the muscle inside the phrase is kept
    loc = reason(case, kb).localisation
    assert loc.site_id is not None and "suprascapular" in loc.site_id
    assert "Infraspinatus" in loc.explains
