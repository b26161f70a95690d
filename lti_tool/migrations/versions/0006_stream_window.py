"""stream window: an optional scheduled start and end per stream

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 20:35:00
"""

from alembic import op
import sqlalchemy as sa
import lti_tool.db


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('streams', schema=None) as batch_op:
        batch_op.add_column(sa.Column('window_start', lti_tool.db.UTCDateTime(timezone=True), nullable=True, comment='scheduled start (publishing allowed a little before); NULL: any time'))
        batch_op.add_column(sa.Column('window_end', lti_tool.db.UTCDateTime(timezone=True), nullable=True, comment='scheduled end: a publish still live then is cut off'))


def downgrade() -> None:
    with op.batch_alter_table('streams', schema=None) as batch_op:
        batch_op.drop_column('window_end')
        batch_op.drop_column('window_start')
