from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dxrx.kb import KnowledgeBase, load_kb

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "examples" / "seed-case.json"
DEV = ROOT / "tests" / "data" / "dev.jsonl"


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_kb()


@pytest.fixture(scope="session")
def seed_record() -> dict[str, Any]:
    record: dict[str, Any] = json.loads(SEED.read_text(encoding="utf-8"))
    return record


def _pdf_unavailable() -> str | None:
    """Why PDF output cannot work here (WeasyPrint needs Pango from the system), or None."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:
        return f"PDF output needs WeasyPrint with Pango and fonts installed: {exc}"
    return None


_NO_PDF = _pdf_unavailable()
needs_pdf = pytest.mark.skipif(_NO_PDF is not None, reason=_NO_PDF or "")
