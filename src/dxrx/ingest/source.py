"""Read a case from a path or standard input and check it is usable.

Every way a user's input can be unusable ends here as an :class:`InputError`
naming the problem, so the CLI and web layer never show a traceback.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from dxrx.errors import InputError

MAX_BYTES = 1_000_000
_WORD = re.compile(r"[^\W\d_]+")
_LATIN = re.compile(r"[A-Za-z]")
_ENGLISH = frozenset(
    "a an the and or of in on at to for with without by from is was were are be been has had have "
    "this that these there which who his her she he it its as after before over under into no not "
    "than then but also both same since during while left right pain".split()
)


def decode_text(raw: bytes, name: str) -> str:
    """UTF-8 text of a file or request body; InputError if too big, empty, binary or not UTF-8."""
    if len(raw) > MAX_BYTES:
        raise InputError(f"{name} is larger than {MAX_BYTES // 1_000_000} MB")
    if not raw.strip():
        raise InputError(f"{name} is empty")
    if b"\0" in raw[:8192]:
        raise InputError(f"{name} is binary, not a text or JSON case")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{name} is not UTF-8 text (undecodable byte at position {exc.start})"
        ) from None


def check_english(text: str, name: str) -> None:
    words = [w.lower() for w in _WORD.findall(text)]
    if not words:
        raise InputError(f"{name} contains no words to analyse")
    letters = sum(len(w) for w in words)
    latin = len(_LATIN.findall(text))
    if letters and latin / letters < 0.6:
        raise InputError(f"{name} does not look like English text; dxrx reads English case reports")
    if len(words) >= 8 and sum(w in _ENGLISH for w in words) / len(words) < 0.08:
        raise InputError(f"{name} does not look like English text; dxrx reads English case reports")


def read_source(path: str) -> tuple[str, bytes]:
    """(display name, raw bytes) for a path or ``-``; size-limited."""
    if path == "-":
        raw = sys.stdin.buffer.read(MAX_BYTES + 1)
        name = "standard input"
    else:
        p = Path(path)
        name = str(p)
        try:
            if p.is_dir():
                raise InputError(f"{name} is a directory, not a case file")
            size = p.stat().st_size
            if size > MAX_BYTES:
                raise InputError(
                    f"{name} is {size / 1e6:.1f} MB; a case file may be at most "
                    f"{MAX_BYTES // 1_000_000} MB"
                )
            raw = p.read_bytes()
        except FileNotFoundError:
            raise InputError(f"{name}: no such file") from None
        except PermissionError:
            raise InputError(f"{name}: permission denied") from None
        except OSError as exc:
            raise InputError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    if len(raw) > MAX_BYTES:
        raise InputError(f"{name} is larger than {MAX_BYTES // 1_000_000} MB")
    return name, raw


def json_object(text: str, name: str, expected: str = " must be a JSON object") -> dict[str, Any]:
    """A JSON object from text; InputError naming the line and column, or the wrong type."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{name} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    if not isinstance(doc, dict):
        raise InputError(f"{name}{expected}, not {type(doc).__name__}")
    return doc


def parse_json_case(text: str, name: str) -> dict[str, Any]:
    """A JSON case record (or a FHIR Bundle, passed on unchecked) from text."""
    return check_case_record(json_object(text, name, ": a JSON case must be an object"), name)


def check_case_record(doc: dict[str, Any], name: str) -> dict[str, Any]:
    """``doc`` itself when it is a usable case record or a FHIR Bundle; else InputError."""
    kind = doc.get("resourceType")
    if kind == "Bundle":
        return doc  # a FHIR Bundle: dxrx.fhir validates it
    if kind is not None:
        raise InputError(f"{name} is a FHIR {kind}; dxrx reads a FHIR Bundle or a JSON case")
    history = doc.get("history")
    if not isinstance(history, str) or not history.strip():
        raise InputError(f"{name}: the JSON case has no 'history' text")
    imaging = doc.get("imaging", "")
    if imaging is not None and not isinstance(imaging, str):
        raise InputError(f"{name}: 'imaging' must be text")
    for key in ("age",):
        if doc.get(key) is not None and not isinstance(doc[key], int):
            raise InputError(f"{name}: '{key}' must be a whole number")
    if doc.get("sex") not in (None, "female", "male"):
        raise InputError(f"{name}: 'sex' must be 'female' or 'male'")
    mods = doc.get("modalities", [])
    if mods is not None and not (isinstance(mods, list) and all(isinstance(m, str) for m in mods)):
        raise InputError(f"{name}: 'modalities' must be a list of strings")
    return doc


def read_text(path: str) -> tuple[str, str]:
    """(display name, decoded text) of a path or ``-``; size-limited, UTF-8 checked."""
    name, raw = read_source(path)
    return name, decode_text(raw, name)


def load_case_input(path: str) -> tuple[str, str | dict[str, Any]]:
    """(display name, free text, case record or FHIR Bundle) from a .txt/.json path or ``-``."""
    name, text = read_text(path)
    is_json = path.lower().endswith(".json") or (path == "-" and text.lstrip().startswith("{"))
    if is_json:
        doc = parse_json_case(text, name)
        if doc.get("resourceType") != "Bundle":
            check_english(doc["history"] + " " + (doc.get("imaging") or ""), name)
        return name, doc
    check_english(text, name)
    return name, text
