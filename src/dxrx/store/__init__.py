"""store: analyses and the audit log in SQL (SQLite by default, PostgreSQL by URL).

The schema is created and upgraded by Alembic migrations shipped in
``dxrx/store/migrations``; :class:`Store` runs ``upgrade head`` when it opens.
"""

from __future__ import annotations

from dxrx.store.records import AnalysisSummary, AuditEntry, StoredAnalysis
from dxrx.store.store import Store

__all__ = ["AnalysisSummary", "AuditEntry", "Store", "StoredAnalysis"]
