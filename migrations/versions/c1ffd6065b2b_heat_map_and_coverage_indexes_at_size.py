"""Heat-map and coverage indexes at size

Both heat maps of a past date are counted from the score changes in force that day,
grouped by their four cell columns; read from an index in that order, the count needs
no sort of the whole register (at 100,000 threats the sort was most of the report's
heat-map time on SQLite). Coverage as of a day reads each present person's
responsibilities in force; with the system id in the staff index it reads them from
the index alone.

Revision ID: c1ffd6065b2b
Revises: 6741c42be0c2
Create Date: 2026-11-30 08:15:07.340091

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "c1ffd6065b2b"
down_revision = "6741c42be0c2"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index("ix_responsibilities_staff_dates", table_name="responsibilities")
    op.create_index(
        "ix_responsibilities_staff_dates",
        "responsibilities",
        ["staff_member_id", "since", "until", "system_id"],
    )
    op.create_index(
        "ix_threat_score_changes_cells",
        "threat_score_changes",
        [
            "inherent_likelihood",
            "inherent_impact",
            "residual_likelihood",
            "residual_impact",
            "changed_on",
            "superseded_on",
            "threat_id",
        ],
    )


def downgrade():
    op.drop_index("ix_threat_score_changes_cells", table_name="threat_score_changes")
    op.drop_index("ix_responsibilities_staff_dates", table_name="responsibilities")
    op.create_index(
        "ix_responsibilities_staff_dates",
        "responsibilities",
        ["staff_member_id", "since", "until"],
    )
