"""signatures and seals: the signing CA's generations, the keys that sign for residents and
enterprises, and the index of what was signed (the evidence itself is in the audit chain)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 09:22:10

"""
from alembic import op
import sqlalchemy as sa

import core.models


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('signer_keys',
    sa.Column('owner', sa.String(length=48), nullable=False),
    sa.Column('serial', sa.String(length=32), nullable=False),
    sa.Column('private_key_enc', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('owner', name=op.f('pk_signer_keys')),
    sa.UniqueConstraint('serial', name=op.f('uq_signer_keys_serial'))
    )
    op.create_table('signing_cas',
    sa.Column('generation', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('root_certificate', sa.LargeBinary(), nullable=False),
    sa.Column('root_key_enc', sa.LargeBinary(), nullable=True),
    sa.Column('issuing_certificate', sa.LargeBinary(), nullable=False),
    sa.Column('issuing_key_enc', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('retired_at', core.models.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('generation', name=op.f('pk_signing_cas'))
    )
    op.create_table('signatures',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('person_id', sa.String(length=32), nullable=False),
    sa.Column('enterprise_id', sa.String(length=32), nullable=True),
    sa.Column('original_sha256', sa.String(length=64), nullable=False),
    sa.Column('document_sha256', sa.String(length=64), nullable=False),
    sa.Column('certificate_serial', sa.String(length=40), nullable=False),
    sa.Column('ca_generation', sa.Integer(), nullable=False),
    sa.Column('signed_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ca_generation'], ['signing_cas.generation'], name=op.f('fk_signatures_ca_generation_signing_cas'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_signatures_enterprise_id_enterprises'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_signatures_person_id_persons'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signatures'))
    )
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.create_index('ix_signatures_document', ['document_sha256'], unique=False)
        batch_op.create_index('ix_signatures_person', ['person_id', 'signed_at'], unique=False)



def downgrade():
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_index('ix_signatures_person')
        batch_op.drop_index('ix_signatures_document')

    op.drop_table('signatures')
    op.drop_table('signing_cas')
    op.drop_table('signer_keys')
