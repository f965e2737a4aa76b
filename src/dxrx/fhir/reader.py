"""Check that input is a FHIR R4B Bundle dxrx can read, and say exactly why not.

fhir.resources raises several kinds of exception for bad input (validation
errors, but also KeyError and TypeError for an unknown or non-string
``resourceType``) and checks no value sets; everything here ends as one
:class:`InputError` naming the entry and field, never a traceback.
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.resource import Resource
from pydantic import ValidationError

from dxrx.errors import InputError
from dxrx.fhir.codes import bad_codes

MAX_ERRORS = 3
# The resources a case is read from; only their codes are checked, so that an
# odd code in a resource dxrx ignores does not stop the work-up.
READ_TYPES = frozenset({"Patient", "Observation", "Condition", "DiagnosticReport"})


def is_fhir_bundle(doc: object) -> bool:
    """True for a parsed JSON document that claims to be a FHIR Bundle."""
    return isinstance(doc, dict) and doc.get("resourceType") == "Bundle"


def _explain(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:MAX_ERRORS]:
        loc = ".".join(str(p) for p in err["loc"]) or "bundle"
        parts.append(f"{loc}: {err['msg'].strip()}")
    more = exc.error_count() - MAX_ERRORS
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


def _check_entries(entries: object, name: str) -> None:
    """The entry-level faults fhir.resources reports badly or not at all."""
    if not isinstance(entries, list):
        raise InputError(f"{name}: Bundle.entry must be a list of entries")
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise InputError(f"{name}: Bundle entry {i} is not a JSON object")
        resource = entry.get("resource")
        if resource is None:
            continue
        if not isinstance(resource, dict):
            raise InputError(f"{name}: Bundle entry {i}: 'resource' is not a JSON object")
        kind = resource.get("resourceType")
        if not isinstance(kind, str) or not kind:
            raise InputError(f"{name}: Bundle entry {i}: the resource has no 'resourceType'")
        try:
            model = get_fhir_model_class(kind)
        except ValueError:
            model = None
        if model is None or not issubclass(model, Resource):
            raise InputError(f"{name}: Bundle entry {i}: {kind!r} is not a FHIR R4B resource type")
        if kind in READ_TYPES:
            bad = bad_codes(resource)
            if bad:
                raise InputError(f"{name}: Bundle entry {i}: invalid code " + "; ".join(bad))


def parse_bundle(data: Any, name: str = "the FHIR Bundle") -> Bundle:
    """``data`` validated as an R4B Bundle with at least one resource; raises InputError."""
    if not isinstance(data, dict):
        raise InputError(f"{name}: a FHIR Bundle must be a JSON object, not {type(data).__name__}")
    kind = data.get("resourceType")
    if kind != "Bundle":
        got = f"resourceType {kind!r}" if kind is not None else "no resourceType"
        raise InputError(f"{name}: expected a FHIR Bundle (resourceType 'Bundle'), got {got}")
    entries = data.get("entry")
    _check_entries([] if entries is None else entries, name)
    bad = bad_codes(data)
    if bad:
        raise InputError(f"{name}: invalid code " + "; ".join(bad))
    try:
        bundle = Bundle.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"{name} is not a valid FHIR R4B Bundle: {_explain(exc)}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{name} is not a valid FHIR R4B Bundle ({exc})") from None
    if not any(e.resource is not None for e in bundle.entry or []):
        raise InputError(f"{name}: the FHIR Bundle has no resources to read a case from")
    return bundle
