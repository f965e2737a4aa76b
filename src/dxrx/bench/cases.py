"""Read a case set: one JSON case per line, each with its published final diagnosis."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dxrx.errors import InputError
from dxrx.ingest.source import parse_json_case


def read_cases(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot be read ({exc})") from None
    cases = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        case = parse_json_case(line, f"{path} line {n}")
        if not isinstance(case.get("final_diagnosis"), str):
            raise InputError(f"{path} line {n}: case has no 'final_diagnosis'")
        cases.append(case)
    if not cases:
        raise InputError(f"{path} holds no cases")
    return cases
