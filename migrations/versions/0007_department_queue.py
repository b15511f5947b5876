"""department queue: applications by item or bundle, status and age

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 16:25:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index('ix_applications_item_status_created', ['item_code', 'status', 'created_at'],
                              unique=False)
        batch_op.create_index('ix_applications_bundle_status_created', ['bundle_code', 'status', 'created_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index('ix_applications_bundle_status_created')
        batch_op.drop_index('ix_applications_item_status_created')
