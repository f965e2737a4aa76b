"""The repo's copies of the shared cases stay in step with the shared originals."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "cases"
COPIES = {
    "seed-case.json": ROOT / "examples" / "seed-case.json",
    "seed-generated-report.md": ROOT / "examples" / "seed-generated-report.md",
    "dev.jsonl": ROOT / "tests" / "data" / "dev.jsonl",
}


@pytest.mark.parametrize("name", sorted(COPIES))
def test_copy_matches_shared(name: str) -> None:
    original = SHARED / name
    if not original.exists():
        pytest.skip("shared folder not beside the project (a user clone)")
    assert COPIES[name].read_bytes() == original.read_bytes(), f"refresh {COPIES[name]}"


@pytest.mark.parametrize("name", sorted(COPIES))
def test_copy_present(name: str) -> None:
    assert COPIES[name].stat().st_size > 0
