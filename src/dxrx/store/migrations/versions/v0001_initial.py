"""Initial tables: analyses and the audit log.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analyses",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kb_version", sa.String(64), nullable=False),
        sa.Column("dxrx_version", sa.String(64), nullable=False),
        sa.Column("input_format", sa.String(16), nullable=False),
        sa.Column("input_text", sa.Text, nullable=False),
        sa.Column("leading_id", sa.String(128), nullable=False),
        sa.Column("leading_name", sa.String(256), nullable=False),
        sa.Column("leading_score", sa.Float, nullable=False),
        sa.Column("report_json", sa.Text, nullable=False),
    )
    op.create_index("ix_analyses_created_at", "analyses", ["created_at"])
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column(
            "analysis_id",
            sa.String(32),
            sa.ForeignKey("analyses.id", ondelete="SET NULL"),
            nullable=True,
        ),
    )
    op.create_index("ix_audit_at", "audit", ["at"])
    op.create_index("ix_audit_analysis_id", "audit", ["analysis_id"])


def downgrade() -> None:
    op.drop_table("audit")
    op.drop_table("analyses")
