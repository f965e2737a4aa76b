"""FHIR R4B in and out: a work-up as a Bundle, and a Bundle as a case.

Export: :func:`report_to_bundle`. Import: :func:`is_fhir_bundle` to recognise
a parsed JSON document, then :func:`ingest_bundle` (-> Case) or
:func:`analyze_bundle` (-> Report); :func:`case_from_bundle` gives the case
text and Patient facts without the KB.
"""

from __future__ import annotations

from dxrx.fhir.export import report_to_bundle
from dxrx.fhir.ingest import (
    BundleCase,
    analyze_bundle,
    case_from_bundle,
    ingest_bundle,
    ingest_bundle_case,
)
from dxrx.fhir.reader import is_fhir_bundle, parse_bundle

__all__ = [
    "BundleCase",
    "analyze_bundle",
    "case_from_bundle",
    "ingest_bundle",
    "ingest_bundle_case",
    "is_fhir_bundle",
    "parse_bundle",
    "report_to_bundle",
]
