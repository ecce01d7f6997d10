"""DDL a drafted rollback is written in: SQLAlchemy's compiler for what it knows, a class per dialect for the rest.

``dualpath draft-rollbacks`` (dualpath/draft/) diffs two reflected schemas and asks this module for
the statements that turn one back into the other. Everything here is text: nothing runs.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.schema import AddConstraint, CreateIndex, CreateTable, DropConstraint, DropIndex


class Ddl:
    """What every dialect writes the same way (SQLAlchemy compiles it for the dialect)."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.preparer = dialect.identifier_preparer

    def q(self, name: str) -> str:
        return str(self.preparer.quote(name))

    def qt(self, ref: str) -> str:
        """A table as a draft names it: its MetaData key, ``schema.table`` outside the default schema."""
        schema, dot, name = ref.partition(".")
        return f"{self.q(schema)}.{self.q(name)}" if dot else self.q(ref)

    def compile(self, element: Any) -> str:
        return str(element.compile(dialect=self.dialect)).strip()

    def type_of(self, column: sa.Column[Any]) -> str:
        return str(column.type.compile(dialect=self.dialect))

    def default_of(self, column: sa.Column[Any]) -> str | None:
        arg = getattr(column.server_default, "arg", None)
        return None if arg is None else str(getattr(arg, "text", arg))

    def column_spec(self, column: sa.Column[Any]) -> str:
        """``name TYPE [NOT NULL] [DEFAULT ...]`` as CREATE TABLE would write it."""
        compiler = self.dialect.ddl_compiler(self.dialect, None)  # type: ignore[arg-type]  # no statement: one column
        return str(compiler.get_column_specification(column))

    # -- tables and columns -------------------------------------------------------------

    def create_table(self, table: sa.Table) -> str:
        return self.compile(CreateTable(table, include_foreign_key_constraints=[]))

    def drop_table(self, name: str) -> str:
        return f"DROP TABLE {self.qt(name)}"

    def rename_table(self, old: str, new: str) -> str:
        return f"ALTER TABLE {self.qt(old)} RENAME TO {self.q(new.rpartition('.')[2])}"

    def add_column(self, table: str, column: sa.Column[Any]) -> str:
        return f"ALTER TABLE {self.qt(table)} ADD COLUMN {self.column_spec(column)}"

    def drop_column(self, table: str, column: str) -> str:
        return f"ALTER TABLE {self.qt(table)} DROP COLUMN {self.q(column)}"

    def rename_column(self, table: str, old: str, new: str) -> str:
        return f"ALTER TABLE {self.qt(table)} RENAME COLUMN {self.q(old)} TO {self.q(new)}"

    def alter_column(self, table: str, now: sa.Column[Any], back: sa.Column[Any]) -> list[str] | None:
        """Statements that give column ``now`` the type, nullability and default of ``back``; None: cannot."""
        return None

    # -- indexes, constraints, views, types ---------------------------------------------

    def create_index(self, index: sa.Index) -> str:
        return self.compile(CreateIndex(index))

    def drop_index(self, index: sa.Index) -> str:
        return self.compile(DropIndex(index))

    def add_constraint(self, constraint: sa.Constraint) -> str | None:
        return self.compile(AddConstraint(constraint))

    def drop_constraint(self, constraint: sa.Constraint) -> str | None:
        return self.compile(DropConstraint(constraint))

    def add_foreign_key_making_index(self, fk: sa.ForeignKeyConstraint, index: sa.Index) -> str | None:
        """A foreign key added so that the server makes ``index`` for it, as it did first; None: no such form."""
        return None

    def view_names(self, conn: Connection) -> list[str]:
        return list(sa.inspect(conn).get_view_names())

    def create_view(self, conn: Connection, name: str) -> str:
        definition = str(sa.inspect(conn).get_view_definition(name)).strip().rstrip(";")
        return f"CREATE VIEW {self.q(name)} AS {definition}"

    def drop_view(self, name: str) -> str:
        return f"DROP VIEW {self.q(name)}"

    def types(self, conn: Connection) -> dict[str, list[str]]:
        """Named types a column may use (PostgreSQL enums): name → labels."""
        return {}

    def create_type(self, name: str, labels: list[str]) -> str:
        raise NotImplementedError

    def drop_type(self, name: str) -> str:
        raise NotImplementedError

    def rename_type(self, old: str, new: str) -> str:
        raise NotImplementedError

    def rename_label(self, name: str, label: str, back: str) -> str:
        raise NotImplementedError

    def retype_column(self, table: str, column: sa.Column[Any], type_name: str, default: str | None) -> list[str]:
        """Give ``column`` the (named) type ``type_name`` again, through its text, and its earlier default."""
        raise NotImplementedError

    def routine_order(self, conn: Connection) -> list[str]:
        """Routines as the fingerprint names them, oldest first (none known: drop order by name)."""
        return []

    def routine_definitions(self, conn: Connection) -> dict[str, str]:
        """Routines as the fingerprint names them → the statement that makes each again (where known)."""
        return {}

    def drop_routine(self, kind: str, signature: str) -> str:
        """``signature`` as the fingerprint names it: ``name(args)``."""
        return f"DROP {'PROCEDURE' if kind == 'procedure' else 'FUNCTION'} {self._routine(signature)}"

    def _routine(self, signature: str) -> str:
        name, _, _ = signature.partition("(")
        return self.q(name)

    def drop_trigger(self, table: str, name: str) -> str:
        return f"DROP TRIGGER {self.q(name)}"


class PostgresDdl(Ddl):
    def routine_order(self, conn: Connection) -> list[str]:
        """By OID, the order they were made in: a SQL-standard body (``RETURN ...``) depends on the
        functions it calls, so they are dropped newest first."""
        rows = conn.execute(sa.text(
            "SELECT n.nspname, p.proname, pg_get_function_identity_arguments(p.oid) FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname NOT IN ('pg_catalog', "
            "'information_schema') AND n.nspname NOT LIKE 'pg\\_%' ORDER BY p.oid"))
        return [f"{name if schema == 'public' else f'{schema}.{name}'}({args})" for schema, name, args in rows]

    def alter_column(self, table: str, now: sa.Column[Any], back: sa.Column[Any]) -> list[str] | None:
        alter = f"ALTER TABLE {self.qt(table)} ALTER COLUMN {self.q(back.name)}"
        out = []
        old_type = self.type_of(back)
        if self.type_of(now) != old_type:
            if self.default_of(now) is not None:  # it may not cast to the old type: set again below
                out.append(f"{alter} DROP DEFAULT")
            out.append(f"{alter} TYPE {old_type} USING {self._cast_back(back.name, self.type_of(now), old_type)}")
            if self.default_of(back) is not None:
                out.append(f"{alter} SET DEFAULT {self.default_of(back)}")
        elif self.default_of(now) != self.default_of(back):
            out.append(f"{alter} SET DEFAULT {self.default_of(back)}" if self.default_of(back) is not None
                       else f"{alter} DROP DEFAULT")
        if now.nullable != back.nullable:
            out.append(f"{alter} {'DROP' if back.nullable else 'SET'} NOT NULL")
        return out

    def _cast_back(self, column: str, now: str, old: str) -> str:
        """The USING expression that turns the column back. PostgreSQL casts bytea to nothing but itself:
        a column made bytea with ``convert_to(col::text, ...)`` (peerdb) goes back through its UTF-8 text."""
        if now.upper() == "BYTEA" and old.upper() != "BYTEA":
            return f"convert_from({self.q(column)}, 'UTF8')::{old}"
        return f"{self.q(column)}::{old}"

    def create_table(self, table: sa.Table) -> str:
        # a serial's sequence went with its table: let CREATE TABLE make it again (SERIAL)
        for column in table.columns:
            default = self.default_of(column)
            if default and re.fullmatch(r"nextval\('[^']*_seq'::regclass\)", default) and column.autoincrement:
                column.server_default = None
        return super().create_table(table)

    def types(self, conn: Connection) -> dict[str, list[str]]:
        rows = conn.exec_driver_sql(
            "SELECT t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_type t "
            "JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE n.nspname = current_schema() GROUP BY t.typname")
        return {name: list(labels) for name, labels in rows}

    def create_type(self, name: str, labels: list[str]) -> str:
        quoted = ", ".join("'" + label.replace("'", "''") + "'" for label in labels)
        return f"CREATE TYPE {self.q(name)} AS ENUM ({quoted})"

    def drop_type(self, name: str) -> str:
        return f"DROP TYPE {self.q(name)}"

    def rename_type(self, old: str, new: str) -> str:
        return f"ALTER TYPE {self.q(old)} RENAME TO {self.q(new)}"

    def rename_label(self, name: str, label: str, back: str) -> str:
        quote = lambda text: "'" + text.replace("'", "''") + "'"  # noqa: E731
        return f"ALTER TYPE {self.q(name)} RENAME VALUE {quote(label)} TO {quote(back)}"

    def retype_column(self, table: str, column: sa.Column[Any], type_name: str, default: str | None) -> list[str]:
        alter = f"ALTER TABLE {self.qt(table)} ALTER COLUMN {self.q(column.name)}"
        out = [f"{alter} DROP DEFAULT"] if self.default_of(column) is not None else []
        out.append(f"{alter} TYPE {self.q(type_name)} USING {self.q(column.name)}::text::{self.q(type_name)}")
        if default is not None:
            out.append(f"{alter} SET DEFAULT {default}")
        return out

    def _routine(self, signature: str) -> str:
        name, _, args = signature.partition("(")
        return f"{self.qt(name)}({args}"

    def routine_definitions(self, conn: Connection) -> dict[str, str]:
        rows = conn.execute(sa.text(
            "SELECT n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), pg_get_functiondef(p.oid) "
            "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.prokind IN ('f', 'p') "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%' "
            "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')"))
        return {f"{name if schema == 'public' else f'{schema}.{name}'}({args})": str(body).strip()
                for schema, name, args, body in rows}

    def drop_trigger(self, table: str, name: str) -> str:
        return f"DROP TRIGGER {self.q(name)} ON {self.qt(table)}"


class MySQLDdl(Ddl):
    def alter_column(self, table: str, now: sa.Column[Any], back: sa.Column[Any]) -> list[str] | None:
        return [f"ALTER TABLE {self.qt(table)} MODIFY COLUMN {self.column_spec(back)}"]

    def add_foreign_key_making_index(self, fk: sa.ForeignKeyConstraint, index: sa.Index) -> str | None:
        """MySQL/MariaDB name a foreign key declared without a name ``<table>_ibfk_<n>`` and the index they
        make for it after its first column, and mark that index as theirs: a later foreign key on the same
        columns replaces it (flipt's 15th migration). Made again with CREATE INDEX, the index would be the
        user's and stay. So where the earlier key and index are exactly such a pair, the key is added
        without its name, as it first was, and the server makes both again."""
        columns = [str(c.name) for c in fk.columns]
        own_name = re.fullmatch(rf"{re.escape(fk.table.name)}_ibfk_\d+", str(fk.name or ""))
        if not own_name or index.unique or index.name != columns[0] or \
                [str(c.name) for c in index.columns] != columns:
            return None
        named = self.compile(AddConstraint(fk))
        return named.replace(f"ADD CONSTRAINT {self.q(str(fk.name))} FOREIGN KEY", "ADD FOREIGN KEY", 1)

    def drop_constraint(self, constraint: sa.Constraint) -> str | None:
        if isinstance(constraint, sa.CheckConstraint):  # MariaDB and MySQL 8 both take DROP CONSTRAINT
            return f"ALTER TABLE {self.q(constraint.table.name)} DROP CONSTRAINT {self.q(str(constraint.name))}"
        return super().drop_constraint(constraint)

    def create_view(self, conn: Connection, name: str) -> str:
        # information_schema keeps the body without DEFINER/ALGORITHM; names of this database are qualified
        row = conn.exec_driver_sql(
            "SELECT VIEW_DEFINITION, DATABASE() FROM information_schema.VIEWS "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s", (name,)).one()
        definition = str(row[0]).replace(f"{self.q(row[1])}.", "")
        return f"CREATE VIEW {self.q(name)} AS {definition}"


class SQLiteDdl(Ddl):
    def add_constraint(self, constraint: sa.Constraint) -> str | None:
        return None  # SQLite changes a table's constraints only by rebuilding it

    def drop_constraint(self, constraint: sa.Constraint) -> str | None:
        return None

    def create_view(self, conn: Connection, name: str) -> str:
        found = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'view' AND name = ?",
                                     (name,)).scalar()
        return str(found).strip().rstrip(";")


_BY_ENGINE: dict[str, type[Ddl]] = {"postgresql": PostgresDdl, "mysql": MySQLDdl, "sqlite": SQLiteDdl}


def ddl_for(engine_name: str, dialect: Dialect) -> Ddl:
    """The DDL writer of an engine (``Engine.name``) for a connection's SQLAlchemy dialect."""
    return _BY_ENGINE[engine_name](dialect)
