"""Matching published diagnosis labels to differential entries."""

from __future__ import annotations

import pytest

from dxrx.labels import label_matches, rank_of


@pytest.mark.parametrize(
    ("truth", "names", "expected"),
    [
        ("Subacute superior gluteal nerve entrapment", ["Superior gluteal nerve entrapment"], True),
        ("Right superior gluteal nerve impingement", ["superior gluteal nerve impingement"], True),
        ("Tarsal tunnel syndrome due to a ganglion cyst", ["Tarsal tunnel syndrome"], True),
        ("Ulnar nerve schwannoma", ["schwannoma"], True),
        ("Lipoma arborescens of the knee", ["Lipoma"], False),
        ("Femoral nerve palsy from iliacus haematoma", ["haematoma"], False),
        ("Femoral nerve palsy from iliacus haematoma", ["femoral nerve palsy"], True),
        ("Pectoralis major tear", ["tear"], False),
        ("Meralgia paraesthetica", ["meralgia paresthetica"], True),
        ("Ischiofemoral impingement", ["Hip osteoarthritis"], False),
        (
            "Malignant peripheral nerve sheath tumour of the brachial plexus",
            ["Benign peripheral nerve sheath tumour", "peripheral nerve sheath tumour"],
            False,
        ),
        (
            "Malignant peripheral nerve sheath tumour of the brachial plexus",
            ["Malignant peripheral nerve sheath tumour", "MPNST"],
            True,
        ),
        ("Benign schwannoma", ["Benign peripheral nerve sheath tumour", "schwannoma"], True),
        ("Bilateral stress fractures", ["Stress fracture"], True),
        ("Multiple enchondromas", ["Enchondroma"], True),
        ("Myositis", ["Myosis"], False),
    ],
)
def test_label_matches(truth: str, names: list[str], expected: bool) -> None:
    assert label_matches(truth, names) is expected


def test_rank_of() -> None:
    entries = [("Gluteal tendinopathy", ["GTPS"]), ("Superior gluteal nerve entrapment", [])]
    assert rank_of("Subacute superior gluteal nerve entrapment", entries) == 2
    assert rank_of("Haglund syndrome", entries) is None
