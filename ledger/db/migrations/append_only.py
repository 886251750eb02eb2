"""The append-only triggers every revision creates for its history tables, written once.

SQLite gets a BEFORE UPDATE and a BEFORE DELETE trigger per table that aborts with
"<table> is append-only"; PostgreSQL gets row and TRUNCATE triggers calling one plpgsql function
(created by revision 0001). Only Alembic revisions call these, inside their own context.
"""

from collections.abc import Iterable

from alembic import op

PG_FUNCTION = """
CREATE FUNCTION fsf_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$
"""


def create_refuse_function() -> None:
    """The PostgreSQL function the triggers call (revision 0001 makes it once)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)


def drop_refuse_function() -> None:
    """Remove what `create_refuse_function` made."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS fsf_refuse_change()")


def create_triggers(tables: Iterable[str]) -> None:
    """Refuse UPDATE and DELETE (and, on PostgreSQL, TRUNCATE) on each table."""
    dialect = op.get_bind().dialect.name
    for table in tables:
        if dialect == "sqlite":
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {action} refused'); END"
                )
        elif dialect == "postgresql":
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION fsf_refuse_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION fsf_refuse_change()"
            )
        else:
            raise NotImplementedError(f"append-only triggers for {dialect}")


def drop_triggers(tables: Iterable[str]) -> None:
    """Remove what `create_triggers` made (dropping a table drops its triggers too)."""
    dialect = op.get_bind().dialect.name
    for table in tables:
        if dialect == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        elif dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
