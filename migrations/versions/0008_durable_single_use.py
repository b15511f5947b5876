"""durable single use: each scan keeps its code's nonce under a unique constraint; signing
keys can be revoked

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 06:30:00

"""
import sqlalchemy as sa
from alembic import op

from core.models import UTCDateTime

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('scans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('nonce', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_scans_nonce', ['nonce'])
    with op.batch_alter_table('signing_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revoked_at', UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('signing_keys', schema=None) as batch_op:
        batch_op.drop_column('revoked_at')
    with op.batch_alter_table('scans', schema=None) as batch_op:
        batch_op.drop_constraint('uq_scans_nonce', type_='unique')
        batch_op.drop_column('nonce')
