"""Deterministic identifiers, so the same work-up always exports the same bundle.

The bundle's UUID is a hash of what decides the work-up (case text, the
structured demographics that override it, and the KB version); every
resource's UUID is derived from the bundle's and the resource's role in it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from datetime import UTC, datetime

from dxrx.model import Report

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:dxrx:fhir")
_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")


def bundle_uuid(report: Report) -> uuid.UUID:
    case = report.case
    key = json.dumps(
        {
            "text": case.text,
            "age": case.age,
            "sex": case.sex,
            "modalities": case.modalities,
            "kb_version": report.kb_version,
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return uuid.uuid5(NAMESPACE, hashlib.sha256(key.encode("utf-8")).hexdigest())


def resource_uuid(bundle: uuid.UUID, role: str) -> uuid.UUID:
    return uuid.uuid5(bundle, role)


def urn(value: uuid.UUID) -> str:
    return f"urn:uuid:{value}"


def fhir_id(value: str | None) -> str | None:
    """``value`` if it is a valid FHIR ``id`` (so a case id can name the bundle), else None."""
    return value if value and _FHIR_ID.fullmatch(value) else None


def bundle_time() -> datetime:
    """Now, or ``SOURCE_DATE_EPOCH`` when set, for byte-identical reproducible output."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=UTC)
    return datetime.now(UTC).replace(microsecond=0)
