"""OKR versions for concurrent edits: objectives, key results and their quarterly statuses
carry a version (existing rows start at 1), so an update names the version it read.

Revision ID: 3d6bf5f73399
Revises: c67f6db5f123
Create Date: 2026-11-29 22:01:57.873059

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3d6bf5f73399'
down_revision = 'c67f6db5f123'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('key_result_statuses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))

    with op.batch_alter_table('key_results', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))

    with op.batch_alter_table('objectives', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))



def downgrade():
    with op.batch_alter_table('objectives', schema=None) as batch_op:
        batch_op.drop_column('version')

    with op.batch_alter_table('key_results', schema=None) as batch_op:
        batch_op.drop_column('version')

    with op.batch_alter_table('key_result_statuses', schema=None) as batch_op:
        batch_op.drop_column('version')

