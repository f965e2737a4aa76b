"""The tables, as SQLAlchemy Core metadata: the one description migrations are checked against."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

analyses = Table(
    "analyses",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("kb_version", String(64), nullable=False),
    Column("dxrx_version", String(64), nullable=False),
    Column("input_format", String(16), nullable=False),
    Column("input_text", Text, nullable=False),
    Column("leading_id", String(128), nullable=False),
    Column("leading_name", String(256), nullable=False),
    Column("leading_score", Float, nullable=False),
    Column("report_json", Text, nullable=False),
    Index("ix_analyses_created_at", "created_at"),
)

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(32), nullable=False),
    Column(
        "analysis_id",
        String(32),
        ForeignKey("analyses.id", ondelete="SET NULL"),
        nullable=True,
    ),
    Index("ix_audit_at", "at"),
    Index("ix_audit_analysis_id", "analysis_id"),
)
