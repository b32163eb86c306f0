"""Threats' open cells index

Both heat maps of a recent date count the threats unchanged since from their own columns,
grouped by their four cell columns; read from an index in that order (open threats
first), the count needs no sort of the register.

Revision ID: 104dc3822a7e
Revises: c1ffd6065b2b
Create Date: 2026-11-30 08:56:57.050281

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "104dc3822a7e"
down_revision = "c1ffd6065b2b"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_threats_open_cells",
        "threats",
        [
            "archived_at",
            "inherent_likelihood",
            "inherent_impact",
            "residual_likelihood",
            "residual_impact",
            "status",
        ],
    )


def downgrade():
    op.drop_index("ix_threats_open_cells", table_name="threats")
