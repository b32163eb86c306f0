"""System criticality as dated changes; indexes for the dated facts at size

A change of a system's criticality is kept (from what, to what, on which day), so a past
quarter's report lists its uncovered systems with the criticality of then. Existing systems
start with no change: their criticality held all along.

"Is there a production change after this day?" is one probe of the day index, so a systems
list as of today skips the per-system lookup; the quarter page's "slipped" reads the target
periods in force on the quarter's last day from the index alone; the figure cache reads
the latest removal of a kind of record from the audit log by index.

Revision ID: 501d3dd4c093
Revises: 71d462dc9ef0
Create Date: 2026-11-30 00:56:36.636437

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "501d3dd4c093"
down_revision = "71d462dc9ef0"
branch_labels = None
depends_on = None


CRITICALITY = sa.Enum(
    "LOW", "MEDIUM", "HIGH", "CRITICAL", name="criticality", native_enum=False, length=32
)


def upgrade():
    op.create_table(
        "system_criticality_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system_id", sa.Integer(), nullable=False),
        sa.Column("changed_on", sa.Date(), nullable=False),
        sa.Column("previous", CRITICALITY, nullable=False),
        sa.Column("criticality", CRITICALITY, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["system_id"],
            ["systems.id"],
            name=op.f("fk_system_criticality_changes_system_id_systems"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_system_criticality_changes_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_system_criticality_changes")),
    )
    with op.batch_alter_table("system_criticality_changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_system_criticality_changes_system_day", ["system_id", "changed_on"], unique=False
        )
    with op.batch_alter_table("countermeasure_target_periods", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_countermeasure_target_periods_target"))
        batch_op.create_index(
            "ix_countermeasure_target_periods_in_force",
            ["target_quarter_start", "valid_from", "valid_until", "countermeasure_id"],
            unique=False,
        )

    with op.batch_alter_table("system_production_changes", schema=None) as batch_op:
        batch_op.create_index("ix_system_production_changes_day", ["changed_on"], unique=False)

    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_entries_removals", ["entity_type", "action", "id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entries_removals")

    with op.batch_alter_table("system_production_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_system_production_changes_day")

    with op.batch_alter_table("countermeasure_target_periods", schema=None) as batch_op:
        batch_op.drop_index("ix_countermeasure_target_periods_in_force")
        batch_op.create_index(
            batch_op.f("ix_countermeasure_target_periods_target"),
            ["target_quarter_start", "valid_from"],
            unique=False,
        )
    with op.batch_alter_table("system_criticality_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_system_criticality_changes_system_day")
    op.drop_table("system_criticality_changes")
