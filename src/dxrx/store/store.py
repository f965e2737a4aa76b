"""The analysis store: every work-up saved with its input, output, KB version and time."""

from __future__ import annotations

import builtins
import re
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, RowMapping, func, insert, or_, select, text

from dxrx.model import Report
from dxrx.store.engine import make_engine
from dxrx.store.migrate import upgrade
from dxrx.store.records import AnalysisSummary, AuditEntry, StoredAnalysis
from dxrx.store.schema import analyses, audit

ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_SUMMARY_COLUMNS = [c for c in analyses.c if c.name not in ("input_text", "report_json")]


def new_id() -> str:
    """A random, URL-safe analysis id (96 bits: unguessable, so ids leak nothing)."""
    return secrets.token_urlsafe(12)


def _utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every time the store writes is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _like(query: str) -> str:
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _summary(row: RowMapping) -> AnalysisSummary:
    data: dict[str, Any] = {c.name: row[c.name] for c in _SUMMARY_COLUMNS}
    data["created_at"] = _utc(row["created_at"])
    return AnalysisSummary.model_validate(data)


class Store:
    """Analyses and the audit log in one SQL database (SQLite by default, or PostgreSQL).

    Every write commits before the method returns, so a caller that answers
    its client afterwards never acknowledges an analysis that is not on disk.
    """

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        if migrate:
            upgrade(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    def save(
        self, *, input_text: str, input_format: str, report: Report, actor: str
    ) -> StoredAnalysis:
        """Store an analysis and its 'analyze' audit row in one committed transaction."""
        now = datetime.now(UTC)
        row = {
            "id": new_id(),
            "created_at": now,
            "kb_version": report.kb_version,
            "dxrx_version": report.dxrx_version,
            "input_format": input_format,
            "input_text": input_text,
            "leading_id": report.leading.id,
            "leading_name": report.leading.name,
            "leading_score": float(report.leading.score),
            "report_json": report.model_dump_json(by_alias=True),
        }
        with self.engine.begin() as conn:
            conn.execute(insert(analyses).values(row))
            conn.execute(
                insert(audit).values(at=now, actor=actor, action="analyze", analysis_id=row["id"])
            )
        fields = {k: v for k, v in row.items() if k != "report_json"}
        return StoredAnalysis.model_validate({**fields, "report": report})

    def get(self, analysis_id: str) -> StoredAnalysis | None:
        if not ID_PATTERN.match(analysis_id):
            return None
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(analyses).where(analyses.c.id == analysis_id))
                .mappings()
                .first()
            )
        if row is None:
            return None
        summary = _summary(row)
        return StoredAnalysis(
            **summary.model_dump(),
            input_text=row["input_text"],
            report=Report.model_validate_json(row["report_json"]),
        )

    def audit(self, *, actor: str, action: str, analysis_id: str | None) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(audit).values(
                    at=datetime.now(UTC), actor=actor, action=action, analysis_id=analysis_id
                )
            )

    def audit_log(self, *, limit: int = 100) -> builtins.list[AuditEntry]:
        """The newest audit entries first."""
        stmt = select(audit).order_by(audit.c.id.desc()).limit(max(0, limit))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).mappings().all()
        return [
            AuditEntry(
                id=r["id"],
                at=_utc(r["at"]),
                actor=r["actor"],
                action=r["action"],
                analysis_id=r["analysis_id"],
            )
            for r in rows
        ]

    def list(
        self, *, offset: int = 0, limit: int = 20, query: str | None = None
    ) -> tuple[builtins.list[AnalysisSummary], int]:
        """One page of analyses, newest first, and the total that match.

        ``query`` matches (case-insensitively, as a substring) the leading
        diagnosis name or the input text.
        """
        where = None
        if query and query.strip():
            pattern = _like(query.strip())
            where = or_(
                analyses.c.leading_name.ilike(pattern, escape="\\"),
                analyses.c.input_text.ilike(pattern, escape="\\"),
            )
        page = select(*_SUMMARY_COLUMNS).order_by(
            analyses.c.created_at.desc(), analyses.c.id.desc()
        )
        count = select(func.count()).select_from(analyses)
        if where is not None:
            page, count = page.where(where), count.where(where)
        page = page.offset(max(0, offset)).limit(max(0, limit))
        with self.engine.connect() as conn:
            total = int(conn.execute(count).scalar_one())
            rows = conn.execute(page).mappings().all()
        return [_summary(r) for r in rows], total
