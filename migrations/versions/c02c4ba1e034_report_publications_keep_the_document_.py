"""Report publications keep the document with the register appendix (frozen with the
publication; earlier publications have none).

Revision ID: c02c4ba1e034
Revises: 5d7bd7c59491
Create Date: 2026-11-30 01:05:35.449540

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c02c4ba1e034"
down_revision = "5d7bd7c59491"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("report_publications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("appendix_pdf", sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table("report_publications", schema=None) as batch_op:
        batch_op.drop_column("appendix_pdf")
