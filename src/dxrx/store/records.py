"""What the store hands back: plain pydantic records, free of SQLAlchemy types."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from dxrx.model import Report


class AnalysisSummary(BaseModel):
    """A stored analysis without its input and report: what a listing shows."""

    id: str
    created_at: datetime
    kb_version: str
    dxrx_version: str
    input_format: str
    leading_id: str
    leading_name: str
    leading_score: float


class StoredAnalysis(AnalysisSummary):
    """A stored analysis in full: the input as given and the report as returned."""

    input_text: str
    report: Report


class AuditEntry(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    analysis_id: str | None
