"""disabling clients: service points, issuers and partner apps get a generation that each
disable moves on (their tokens, codes and partner tokens name theirs); partner apps get
`active`

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 10:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_GENERATION = ('service_points', 'issuers', 'oauth_clients', 'oauth_codes', 'oauth_tokens')


def upgrade():
    with op.batch_alter_table('oauth_clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active', sa.Boolean(), server_default=sa.true(),
                                      nullable=False))
    for table in _GENERATION:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('generation', sa.Integer(), server_default='0',
                                          nullable=False))


def downgrade():
    for table in reversed(_GENERATION):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('generation')
    with op.batch_alter_table('oauth_clients', schema=None) as batch_op:
        batch_op.drop_column('active')
