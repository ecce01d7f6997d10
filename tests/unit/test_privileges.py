"""The grants a run needs, derived from its statements (dualpath/privileges.py): one line per kind of grant."""

from __future__ import annotations

from dualpath.changes import Change, Statement
from dualpath.engines.probes import RoleReading
from dualpath.privileges import check_role, needed_grants


def change(version: str, *sql: str) -> Change:
    return Change(version=version, description="x", forward=[Statement(text=s, file="V.sql", line=1) for s in sql],
                  rollback=[], file="V.sql")


def test_postgresql_needs_create_on_the_schema_and_ownership_of_what_it_alters_but_did_not_create() -> None:
    changes = [change("1", "CREATE TABLE fresh (id int)", "ALTER TABLE fresh ADD COLUMN a int"),
               change("2", "ALTER TABLE customers ADD COLUMN b int", "CREATE INDEX i ON orders (a)",
                      "UPDATE customers SET b = 1", "INSERT INTO fresh VALUES (1)", "CREATE SCHEMA extra")]
    needed, unread = needed_grants(changes, "postgresql", "tenant_7")
    assert needed == ["CREATE ON SCHEMA tenant_7", "ownership of customers, orders", "SELECT, UPDATE ON customers",
                      "CREATE ON DATABASE the tenant's database"]
    assert unread == 0


def test_mariadb_needs_database_scoped_privileges() -> None:
    changes = [change("1", "CREATE TABLE t (id int)", "ALTER TABLE c ADD COLUMN a int", "DROP TABLE old",
                      "DELETE FROM c WHERE a = 1", "CREATE VIEW v AS SELECT 1")]
    needed, _ = needed_grants(changes, "mysql", "shop")
    assert needed == ["CREATE ON shop.*", "ALTER ON shop.c", "DROP ON shop.old", "SELECT, DELETE ON shop.c",
                      "CREATE VIEW ON shop.*", "CREATE, SELECT, INSERT, UPDATE, DELETE ON shop.* (dualpath's "
                      "history tables)"]


def test_a_statement_that_cannot_be_read_is_counted_not_guessed() -> None:
    check = check_role("north", RoleReading("app", False), [change("1", "CREATE TABLE (")], "postgresql", "public")
    assert check.unread == 1 and "could not read" in check.needs()
    assert check.warning("prod") is None  # a role without server-wide powers: nothing to warn about


def test_the_warning_names_the_setting_and_the_grants() -> None:
    check = check_role("north", RoleReading("postgres", True), [change("1", "CREATE TABLE t (id int)")],
                       "postgresql", "public")
    assert check.warning("prod") == (
        "tenant north is migrated as postgres (a superuser): far more than this run needs. Migrate as a role that "
        "holds only: CREATE ON SCHEMA public. To accept it, set allow_superuser = true in [environments.prod] "
        "(or [preflight] allow_superuser = true)")
