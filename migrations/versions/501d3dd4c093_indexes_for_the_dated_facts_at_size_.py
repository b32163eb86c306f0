"""Indexes for the dated facts at size: production changes by day, target periods in force

"Is there a production change after this day?" is one probe of the day index, so a systems
list as of today skips the per-system lookup; the quarter page's "slipped" reads the target
periods in force on the quarter's last day from the index alone.

Revision ID: 501d3dd4c093
Revises: 53156c801557
Create Date: 2026-11-30 00:56:36.636437

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "501d3dd4c093"
down_revision = "53156c801557"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("countermeasure_target_periods", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_countermeasure_target_periods_target"))
        batch_op.create_index(
            "ix_countermeasure_target_periods_in_force",
            ["target_quarter_start", "valid_from", "valid_until", "countermeasure_id"],
            unique=False,
        )

    with op.batch_alter_table("system_production_changes", schema=None) as batch_op:
        batch_op.create_index("ix_system_production_changes_day", ["changed_on"], unique=False)


def downgrade():
    with op.batch_alter_table("system_production_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_system_production_changes_day")

    with op.batch_alter_table("countermeasure_target_periods", schema=None) as batch_op:
        batch_op.drop_index("ix_countermeasure_target_periods_in_force")
        batch_op.create_index(
            batch_op.f("ix_countermeasure_target_periods_target"),
            ["target_quarter_start", "valid_from"],
            unique=False,
        )
