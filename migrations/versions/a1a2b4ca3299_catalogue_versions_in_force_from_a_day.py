"""Catalogue versions in force from a day: a figure as of a day lays out the version then.

Revision ID: a1a2b4ca3299
Revises: 501d3dd4c093
Create Date: 2026-11-30 01:50:10.363938

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a1a2b4ca3299"
down_revision = "501d3dd4c093"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("catalogue_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("in_force_from", sa.Date(), nullable=True))
    # The versions already imported take effect on the day they were imported.
    day = (
        "date(imported_at)"
        if op.get_bind().dialect.name == "sqlite"
        else "CAST(imported_at AS DATE)"
    )
    op.execute(f"UPDATE catalogue_versions SET in_force_from = {day}")
    with op.batch_alter_table("catalogue_versions", schema=None) as batch_op:
        batch_op.alter_column("in_force_from", existing_type=sa.Date(), nullable=False)


def downgrade():
    with op.batch_alter_table("catalogue_versions", schema=None) as batch_op:
        batch_op.drop_column("in_force_from")
