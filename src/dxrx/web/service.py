"""Request bodies -> work-ups: the one place the web layer turns input into a Report.

The same checks as the CLI's (empty, binary, not UTF-8, malformed case,
not English) end here as :class:`InputError`, which the app answers with 400.
"""

from __future__ import annotations

import json
from typing import Any

from dxrx.errors import InputError
from dxrx.ingest import case_text, ingest_record, ingest_text
from dxrx.ingest.source import check_case_record, check_english, decode_text, json_object
from dxrx.kb.loader import KnowledgeBase
from dxrx.model import Report
from dxrx.pipeline import analyze_case

BODY = "the request body"
MAX_CASE_CHARS = 20_000
"""The longest case text the server works up: a long clinic letter is ~10,000 characters,
and the pipeline's time and report size grow fast with length (a 1 MB body of text without
sentence breaks would take minutes and gigabytes)."""
JSON_TYPES = frozenset({"application/json", "application/fhir+json"})
TEXT_TYPES = frozenset({"text/plain", "text/markdown"})


class CaseTooLarge(InputError):
    """The case text is longer than the server analyses (answered with 413)."""


class UnsupportedMediaType(ValueError):
    """The request's Content-Type is not one dxrx reads (answered with 415)."""


def parse_json_body(raw: bytes, name: str = BODY) -> dict[str, Any]:
    """A JSON object from a request body; InputError for anything else."""
    return json_object(decode_text(raw, name), name)


def media_type(content_type: str | None) -> str:
    """``text/plain; charset=utf-8`` -> ``text/plain``."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_json_type(content_type: str | None) -> bool:
    kind = media_type(content_type)
    return kind in JSON_TYPES or (kind.startswith("application/") and kind.endswith("+json"))


def body_from_request(raw: bytes, content_type: str | None) -> str | dict[str, Any]:
    """The analysable body of a request: text for text/plain, a JSON object for JSON.

    Raises UnsupportedMediaType for any other Content-Type."""
    if is_json_type(content_type):
        return parse_json_body(raw)
    if media_type(content_type) in TEXT_TYPES:
        return decode_text(raw, BODY)
    raise UnsupportedMediaType(media_type(content_type) or "(none)")


def _text_of(body: dict[str, Any], name: str) -> str | None:
    """The free text of a ``{"text": ...}`` body, or None for a case record."""
    if "text" not in body or "history" in body or "resourceType" in body:
        return None
    text = body["text"]
    if not isinstance(text, str):
        raise InputError(f"{name}: 'text' must be a string")
    return text


def input_text_of(body: str | dict[str, Any]) -> str:
    """What the store keeps as the analysis input: the text, or the JSON as given."""
    if isinstance(body, str):
        return body
    text = _text_of(body, BODY)
    return text if text is not None else json.dumps(body, ensure_ascii=False)


def check_length(text: str, limit: int) -> None:
    """CaseTooLarge when ``text`` is over ``limit`` characters."""
    if len(text) > limit:
        raise CaseTooLarge(
            f"the case text is {len(text)} characters; this server works up at most {limit} "
            "(give the history, examination and imaging of one case)"
        )


def analyze_input(
    body: str | dict[str, Any], kb: KnowledgeBase, *, max_chars: int = MAX_CASE_CHARS
) -> tuple[Report, str]:
    """Free text, ``{"text": ...}``, a JSON case record or a FHIR Bundle -> (report, format).

    The format is "text", "case" or "fhir". Raises InputError with a clear message
    (CaseTooLarge when the case text is over ``max_chars``).
    """
    if isinstance(body, str):
        if not body.strip():
            raise InputError(f"{BODY} is empty")
        check_length(body, max_chars)
        check_english(body, BODY)
        return analyze_case(ingest_text(body, kb), kb), "text"
    if not isinstance(body, dict):
        raise InputError(f"{BODY} must be text or a JSON object")
    text = _text_of(body, BODY)
    if text is not None:
        return analyze_input(text, kb, max_chars=max_chars)[0], "text"
    if body.get("resourceType") == "Bundle":
        from dxrx.fhir import case_from_bundle, ingest_bundle_case  # heavy: first use only

        found = case_from_bundle(body, name=BODY)
        check_length(found.text, max_chars)
        return analyze_case(ingest_bundle_case(found, kb), kb), "fhir"
    record = check_case_record(body, BODY)
    check_length(case_text(record), max_chars)
    check_english(record["history"] + " " + (record.get("imaging") or ""), BODY)
    return analyze_case(ingest_record(record, kb), kb), "case"
