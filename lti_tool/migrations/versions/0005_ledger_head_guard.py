"""ledger head guard: the consent ledger's head row cannot be deleted

Without its head the chain would restart at 1 and the next append would fail; ``consent
verify`` also reports records without a head.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 20:40:00
"""

from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER consent_ledger_head_no_delete BEFORE DELETE ON consent_ledger_head "
            "FOR EACH ROW EXECUTE FUNCTION lti_tool_append_only()"
        )
    else:
        op.execute(
            "CREATE TRIGGER consent_ledger_head_no_delete BEFORE DELETE ON consent_ledger_head "
            "BEGIN SELECT RAISE(ABORT, 'consent_ledger_head cannot be deleted'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER consent_ledger_head_no_delete ON consent_ledger_head")
    else:
        op.execute("DROP TRIGGER consent_ledger_head_no_delete")
