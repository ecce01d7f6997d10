from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.objects import undoes_forward
from dualpath.risk.rule import Case, OpRule


class DropDatabase(OpRule):
    id = "DP014"
    title = "DROP DATABASE or DROP SCHEMA in a migration"
    severity = "error"
    kinds = ("drop_database", "drop_schema")
    why = ("Dropping a database or schema destroys every object and row in it. A migration is the wrong "
           "place for it: it runs unattended on every environment.")
    alternative = "Do it by hand, after a backup, with a ticket — not in a migration."
    fix = "remove the statement from the migration and drop the database by hand after a backup"
    bad = "DROP SCHEMA reporting CASCADE;"
    good = "CREATE SCHEMA IF NOT EXISTS reporting;"

    cases = (
        Case("CREATE SCHEMA app;", False, "DROP SCHEMA app CASCADE;",
             note="rollback drops the schema its forward created"),
        Case("CREATE TABLE app.t (id int);", True, "DROP SCHEMA app;", note="a schema that existed before"),
        Case("CREATE DATABASE app;", False, "DROP SCHEMA IF EXISTS app;", dialect="mysql",
             note="mysql: its own database"),
        Case("CREATE TABLE t (id int);", True, "DROP DATABASE app;", dialect="mysql", note="mysql: an older database"),
    )

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        return not undoes_forward(ctx.forward, item, effect.op)  # a rollback dropping its own new schema

    def message(self, ctx: Context, effect: Effect) -> str:
        name = effect.op.name if effect.op else ""
        what = "schema" if effect.operation == "drop_schema" else "database"
        return f"DROP {what.upper()} {name} destroys every object in it"


RULE = DropDatabase()
