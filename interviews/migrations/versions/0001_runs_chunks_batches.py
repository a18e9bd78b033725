"""The first ledger: runs, their chunks, and each chunk's provider batch (or intent).

Ledgers made before migrations existed have exactly these tables; they are stamped with this
revision when first opened, then upgraded.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create runs, chunks and batches."""
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(200), primary_key=True),
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("spec_sha256", sa.String(64), nullable=False),
        sa.Column("spec_json", sa.Text, nullable=False),
        sa.Column("params_json", sa.Text),
        sa.Column("requests_path", sa.Text),
        sa.Column("request_count", sa.Integer),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("estimate_usd", sa.String(40)),
        sa.Column("cost_usd", sa.String(40)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "chunks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(200), sa.ForeignKey("runs.run_id"), nullable=False),
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("chunk_index", sa.Integer, nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("index_path", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("request_count", sa.Integer, nullable=False),
        sa.Column("byte_count", sa.Integer, nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("results_path", sa.Text),
        sa.UniqueConstraint("run_id", "round", "chunk_index"),
    )
    op.create_table(
        "batches",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("chunk_id", sa.Integer, sa.ForeignKey("chunks.id"), nullable=False, unique=True),
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("batch_id", sa.String(200), unique=True),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("provider_status", sa.String(40)),
        sa.Column("counts_json", sa.Text),
        sa.Column("intent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True)),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Drop them (and everything recorded in them)."""
    op.drop_table("batches")
    op.drop_table("chunks")
    op.drop_table("runs")
