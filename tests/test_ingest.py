"""Ingest: negation, uncertainty, side, duration, imaging (sequence, signal, structure)."""

from __future__ import annotations

import pytest

from dxrx.ingest import ingest_record, ingest_text
from dxrx.kb import KnowledgeBase
from dxrx.model import Case, Finding


def _find(case: Case, concept: str, **attrs: object) -> list[Finding]:
    out = []
    for f in case.findings:
        if f.concept != concept:
            continue
        if all(getattr(f, k) == v for k, v in attrs.items()):
            out.append(f)
    return out


def test_negation_of_symptoms_and_history(kb: KnowledgeBase) -> None:
    case = ingest_text(
        "A 60-year-old man with buttock pain. He denies trauma. "
        "No numbness or tingling in the leg. "
        "There is weakness of hip abduction.",
        kb,
    )
    assert _find(case, "trauma", negated=True)
    assert _find(case, "numbness", negated=True)
    assert _find(case, "paraesthesia", negated=True)
    weak = _find(case, "weakness", negated=False)
    assert weak and "hip-abduction" in weak[0].actions
    assert _find(case, "pain", negated=False)[0].regions == ["buttock"]


def test_negation_scope_stops_at_but(kb: KnowledgeBase) -> None:
    case = ingest_text("No fever, but marked weight loss over three months.", kb)
    assert _find(case, "fever", negated=True)
    assert _find(case, "weight-loss", negated=False)


def test_pseudo_negation_is_not_negation(kb: KnowledgeBase) -> None:
    case = ingest_text("Pain in the buttock for two weeks. No cause was found.", kb)
    assert _find(case, "insidious-onset", negated=False)


def test_uncertainty(kb: KnowledgeBase) -> None:
    case = ingest_text("MRI: possible tear of the acetabular labrum.", kb)
    tears = [f for f in case.findings if kb.concept_is_a(f.concept, "tear")]
    assert tears and all(f.uncertain for f in tears)


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("47-year-old woman with a 3 month history of buttock pain.", 91.2),
        ("Woman aged 47 with three months of sharp pain in the buttock.", 91.2),
        ("Man with hip pain for 2 weeks.", 14.0),
        ("Groin pain over the past six weeks in a runner.", 42.0),
    ],
)
def test_duration(kb: KnowledgeBase, text: str, days: float) -> None:
    case = ingest_text(text, kb)
    assert case.duration_days == pytest.approx(days, rel=0.01)


@pytest.mark.parametrize(
    ("text", "age", "sex"),
    [
        ("A 47-year-old female presented with buttock pain.", 47, "female"),
        ("Woman aged 47 with buttock pain.", 47, "female"),
        ("81-year-old man with a painful mass above the kneecap.", 81, "male"),
        ("Buttock pain. No other history.", None, None),
    ],
)
def test_age_and_sex(kb: KnowledgeBase, text: str, age: int | None, sex: str | None) -> None:
    case = ingest_text(text, kb)
    assert (case.age, case.sex) == (age, sex)


def test_side_and_imaging_attributes(kb: KnowledgeBase, seed_record: dict[str, object]) -> None:
    case = ingest_record(seed_record, kb)
    assert case.side == "right"
    stir = [f for f in case.findings if f.concept == "high-signal" and "STIR" in f.sequences]
    assert stir, "STIR hyperintensity not extracted"
    assert set(stir[0].structures) == {"tensor-fasciae-latae", "gluteus-medius", "gluteus-minimus"}
    assert stir[0].modality == "MR" and stir[0].side == "right"
    # "the same three muscles" on T1 resolves to the muscles of the previous sentence
    t1 = [f for f in case.findings if f.concept == "high-signal" and f.sequences == ["T1"]]
    assert t1 and set(t1[0].structures) == set(stir[0].structures)
    assert t1[0].grade == "mild"
    fatty = _find(case, "fatty-change")
    assert fatty and fatty[0].sequences == ["T1"]
    # every finding points at the words it came from
    for f in case.findings:
        assert case.text[f.cue.start : f.cue.end] == f.cue.text
        assert case.text[f.span.start : f.span.end] == f.span.text


def test_nerve_not_visualised_is_not_a_nerve_signal_finding(
    kb: KnowledgeBase, seed_record: dict[str, object]
) -> None:
    case = ingest_record(seed_record, kb)
    assert _find(case, "not-visualised")
    for f in case.findings:
        assert not any(s in kb.nerves for s in f.structures), f.label


def test_elliptical_muscle_list(kb: KnowledgeBase) -> None:
    case = ingest_text("MRI: oedema-like signal in the gluteus medius and minimus on STIR.", kb)
    f = _find(case, "oedema")[0]
    assert set(f.structures) == {"gluteus-medius", "gluteus-minimus"}


def test_sequence_assignment_per_signal_word(kb: KnowledgeBase) -> None:
    case = ingest_text(
        "MRI: the tibialis anterior is hyperintense on STIR and hypointense on T1.", kb
    )
    high = _find(case, "high-signal")[0]
    low = _find(case, "low-signal")[0]
    assert high.sequences == ["STIR"]
    assert low.sequences == ["T1"]
    assert high.structures == ["tibialis-anterior"]


def test_spared_muscle_is_normal_finding(kb: KnowledgeBase) -> None:
    case = ingest_text(
        "MRI: STIR hyperintensity of the gluteus medius; the gluteus maximus was normal.", kb
    )
    normal = _find(case, "normal")
    assert normal and normal[0].structures == ["gluteus-maximus"]


def test_discussion_with_citations_is_not_read_as_case_facts(kb: KnowledgeBase) -> None:
    case = ingest_text(
        "A 50-year-old woman with buttock pain. Injury to the nerve is common after buttock "
        "injections and pelvic fracture [6, 7].",
        kb,
    )
    assert not _find(case, "intramuscular-injection")
    assert not _find(case, "fracture")


def test_each_sentence_takes_its_own_modality_header(kb: KnowledgeBase) -> None:
    text = (
        "History: knee pain.\n\nImaging: Knee radiographs: focal lytic lesion of the patella. "
        "MRI: the quadriceps tendon is thickened. It is intermediate signal on T1."
    )
    case = ingest_text(text, kb)
    by_concept = {f.concept: f for f in case.findings}
    assert by_concept["lytic-lesion"].modality == "XR"
    assert by_concept["thickening"].modality == "MR"
    assert by_concept["intermediate-signal"].modality == "MR"
    assert case.modalities == ["XR", "MR"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "History: Thigh pain after a kick. Imaging: MRI shows a haematoma in the anterior "
            "compartment.",
            "anterior-compartment-of-thigh",
        ),
        (
            "History: Exertional leg pain in a runner. Imaging: MRI shows oedema in the anterior "
            "compartment after exercise.",
            "anterior-compartment-of-leg",
        ),
        (
            "History: Forearm swelling after a crush injury. Imaging: MRI shows oedema in the "
            "anterior compartment.",
            "anterior-compartment-of-forearm",
        ),
        (
            "History: Shoulder pain in a thrower. Imaging: MR arthrography shows a tear of the "
            "superior labrum.",
            "superior-labrum",
        ),
        (
            "History: Groin pain and clicking in the hip. Imaging: MR arthrography shows a tear "
            "of the superior labrum.",
            "acetabular-labrum",
        ),
    ],
)
def test_a_phrase_shared_by_limb_segments_takes_the_case_segment(
    kb: KnowledgeBase, text: str, expected: str
) -> None:
    case = ingest_text(text, kb)
    structures = {s for f in case.findings for s in f.structures}
    assert expected in structures


def test_text_without_sentence_breaks_keeps_spans_short(kb: KnowledgeBase) -> None:
    """A run-on text must not make every finding carry the whole text (quadratic output)."""
    from dxrx.ingest.text import MAX_SENTENCE

    text = "History: " + "buttock pain and weakness of hip abduction, " * 300
    case = ingest_text(text, kb)
    assert len(case.findings) > 300
    assert max(f.span.end - f.span.start for f in case.findings) <= MAX_SENTENCE
    for f in case.findings[:50]:
        assert text[f.span.start : f.span.end] == f.span.text
        assert f.span.start <= f.cue.start < f.cue.end <= f.span.end


def test_a_denied_background_does_not_deny_the_presenting_complaint(kb: KnowledgeBase) -> None:
    case = ingest_text(
        "History: A 45-year-old woman with no relevant medical history, referred for a painful "
        "lump in the armpit that had grown rapidly.",
        kb,
    )
    present = {f.concept for f in case.findings if not f.negated}
    assert "palpable-mass" in present or "rapid-onset-mass" in present
    assert "pain" in present


def test_widening_the_foramen_is_foraminal_widening(kb: KnowledgeBase) -> None:
    case = ingest_text(
        "Imaging: MRI shows a mass extending through the C5-C6 neural foramen, widening the "
        "foramen.",
        kb,
    )
    assert "foraminal-widening" in {f.concept for f in case.findings}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Examination: FADIR negative.", {"fadir-positive": True}),
        (
            "Examination: Straight leg raise negative on the left.",
            {"straight-leg-raise-positive": True},
        ),
        (
            "Examination: FADIR positive, FABER negative.",
            {"fadir-positive": False, "faber-positive": True},
        ),
        (
            "Imaging: Radiographs show lunate sclerosis and negative ulnar variance.",
            {"sclerosis": False},
        ),
    ],
)
def test_a_test_reported_negative_after_its_name_is_denied(
    kb: KnowledgeBase, text: str, expected: dict[str, bool]
) -> None:
    negated = {f.concept: f.negated for f in ingest_text(text, kb).findings}
    for concept, denied in expected.items():
        assert negated[concept] is denied, (concept, negated)


def test_weight_loss_stated_as_an_amount(kb: KnowledgeBase) -> None:
    case = ingest_text("History: He has lost 12 kg in three months and has back pain.", kb)
    assert any(f.concept == "weight-loss" and not f.negated for f in case.findings)


def test_a_fragment_that_has_come_away_is_an_avulsed_fragment(kb: KnowledgeBase) -> None:
    case = ingest_text(
        "Imaging: MRI shows a bone fragment above the patella with marrow oedema where the "
        "fragment has come away.",
        kb,
    )
    concepts = {f.concept for f in case.findings}
    assert {"avulsion"} <= concepts
    assert any(kb.concept_is_a(c, "fragmentation") for c in concepts)


def test_arterial_closure_and_a_reduced_ankle_arm_index(kb: KnowledgeBase) -> None:
    case = ingest_text(
        "History: After provocative exercise the ankle-arm index is markedly reduced. "
        "Imaging: CT during plantar flexion: the popliteal artery segments close off completely.",
        kb,
    )
    found = {f.concept: f for f in case.findings}
    assert "reduced-pulses" in found and not found["reduced-pulses"].negated
    assert "popliteal-artery" in found["arterial-stenosis-occlusion"].structures
