"""Reading the six migration layouts into Changes, and refusing broken folders with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from dualpath.errors import InputError, UsageError
from dualpath.sources import LAYOUTS, detect_layout, read_changes
from tests.unit.layouts import DIALECTS, KINDS, VERSIONS, write_layout

PLPGSQL = """\
CREATE FUNCTION touch_updated_at() RETURNS trigger AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def write(folder: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def texts(statements) -> list[str]:
    return [s.text for s in statements]


def lines(statements) -> list[int]:
    return [s.line for s in statements]


def input_error(folder: Path, **kwargs) -> InputError:
    with pytest.raises(InputError) as caught:
        read_changes(folder, **kwargs)
    return caught.value


def assert_points_at(error: InputError, where: str) -> None:
    """Every refusal says where (file:line) and what to do next."""
    assert error.where == where, str(error)
    assert where in str(error)
    assert error.hint


# --- every layout, every dialect ------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("kind", KINDS)
def test_example_projects_read_back(tmp_path: Path, kind: str, dialect: str) -> None:
    folder = write_layout(kind, tmp_path / kind, dialect)
    assert detect_layout(folder) == kind
    changes = read_changes(folder, dialect=dialect)
    assert [c.version for c in changes] == VERSIONS[kind]
    assert all(c.layout == kind and c.forward and c.rollback for c in changes)
    assert changes[0].forward[0].text.startswith("CREATE TABLE widgets")
    assert changes[0].rollback[-1].text == "DROP TABLE widgets"
    assert "price" in changes[1].forward[0].text


def test_layout_names_are_the_documented_ones() -> None:
    assert set(LAYOUTS) == {"flyway", "diesel", "golang-migrate", "dbmate", "liquibase", "sqitch"}


def test_layout_can_be_named_instead_of_detected(tmp_path: Path) -> None:
    folder = write_layout("flyway", tmp_path / "m")
    assert [c.version for c in read_changes(folder, layout="flyway")] == ["1", "2"]
    with pytest.raises(UsageError, match="unknown migration layout"):
        read_changes(folder, layout="alembic")


# --- Flyway -------------------------------------------------------------------------------


def test_flyway_versions_descriptions_nesting_and_dollar_quotes(tmp_path: Path) -> None:
    write(tmp_path, {
        "V1__create_users.sql": "CREATE TABLE users (id int PRIMARY KEY, updated_at timestamptz);\n",
        "U1__create_users.sql": "DROP TABLE users;\n",
        "2024/V1_1__touch_trigger.sql": "-- keeps updated_at honest\n\n" + PLPGSQL,
        "2024/U1_1__touch_trigger.sql": "DROP FUNCTION touch_updated_at();\n",
        "V10__late.sql": "SELECT 10;\n", "U10__late.sql": "SELECT -10;\n",
        "V2__add_email.sql": "ALTER TABLE users ADD COLUMN email text;\n",
        "U2__add_email.sql": "ALTER TABLE users DROP COLUMN email;\n",
        "README.md": "not a migration",
    })
    changes = read_changes(tmp_path, dialect="postgresql")
    assert [c.version for c in changes] == ["1", "1.1", "2", "10"]
    assert [c.description for c in changes] == ["create users", "touch trigger", "add email", "late"]
    trigger = changes[1]
    assert trigger.file == str(tmp_path / "2024/V1_1__touch_trigger.sql")
    assert trigger.rollback_file == str(tmp_path / "2024/U1_1__touch_trigger.sql")
    assert len(trigger.forward) == 1
    assert trigger.forward[0].line == 3
    assert trigger.forward[0].text.startswith("CREATE FUNCTION touch_updated_at()")
    assert trigger.forward[0].text.endswith("$$ LANGUAGE plpgsql")
    assert texts(changes[0].rollback) == ["DROP TABLE users"]


def test_flyway_script_config_turns_the_transaction_off(tmp_path: Path) -> None:
    write(tmp_path, {
        "V1__idx.sql": "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);\n",
        "V1__idx.sql.conf": "executeInTransaction=false\n",
        "U1__idx.sql": "DROP INDEX CONCURRENTLY users_email_idx;\n",
    })
    (change,) = read_changes(tmp_path, dialect="postgresql")
    assert change.no_transaction
    assert change.directive("no-transaction").where == f"{tmp_path / 'V1__idx.sql.conf'}:1"


def test_flyway_repeatable_runs_after_every_versioned_change(tmp_path: Path) -> None:
    write(tmp_path, {"V1__a.sql": "SELECT 1;", "U1__a.sql": "SELECT 1;", "R__views.sql": "CREATE VIEW v AS SELECT 3;",
                     "R__a_first.sql": "SELECT 4;", "V20240101__b.sql": "SELECT 2;", "U20240101__b.sql": "SELECT 2;"})
    changes = read_changes(tmp_path, missing_rollbacks="refuse")
    assert [c.version for c in changes] == ["1", "20240101", "R__a_first", "R__views"]
    views = changes[-1]
    assert views.description == "views" and views.extra["repeatable"] and views.rollback == ()
    # it has no rollback by nature: never refused, read as irreversible under "refuse" and "irreversible"
    assert views.irreversible is not None and "[rollback] missing" in views.irreversible.args["reason"]
    assert read_changes(tmp_path, missing_rollbacks="allow")[-1].irreversible is None


def test_flyway_skips_what_flyway_skips_with_a_note(tmp_path: Path) -> None:
    write(tmp_path, {"V1__a.sql": "SELECT 1;", "U1__a.sql": "SELECT 2;", "V2_oops.sql": "SELECT 3;",
                     "README.md": "# migrations", "flyway.conf": "flyway.locations=x", "V1__a.sql.conf": "",
                     "sub/.keep": "", "v3__lower.sql": "SELECT 4;"})
    notes: list[str] = []
    (change,) = read_changes(tmp_path, notes=notes)
    assert change.version == "1"
    assert notes[-1] == (f"{tmp_path / 'v3__lower.sql'}: ignored, as Flyway ignores it: "
                         "its prefixes are case-sensitive (V, U, R)")
    assert notes[:-1] == [f"{tmp_path / 'README.md'}: ignored, as Flyway ignores it: not a V__, U__ or R__ .sql file",
                     f"{tmp_path / 'V2_oops.sql'}: ignored, as Flyway ignores it: not a migration name "
                     "(V<version>__<description>.sql, two underscores)",
                     f"{tmp_path / 'flyway.conf'}: ignored, as Flyway ignores it: not a V__, U__ or R__ .sql file"]


@pytest.mark.parametrize(("names", "order"), [
    (["V1.10__c", "V1.2.3__b", "V1_2__a"], ["1.2", "1.2.3", "1.10"]),
    (["V10.0_2020.01.01__c", "V5.0_2014.08.08__b", "V4.9_2015.10.26__a"],
     ["4.9.2015.10.26", "5.0.2014.08.08", "10.0.2020.01.01"]),
])
def test_flyway_multi_part_versions_sort_as_numbers(tmp_path: Path, names: list[str], order: list[str]) -> None:
    write(tmp_path, {f"{n}.sql": "SELECT 1;" for n in names})
    assert [c.version for c in read_changes(tmp_path, missing_rollbacks="allow")] == order


def test_flyway_placeholders_are_replaced_from_the_setting(tmp_path: Path) -> None:
    write(tmp_path, {"V1__f.sql": "CREATE TABLE ${prefix}f (id INT);\n-- by ${flyway:user}\n",
                     "U1__f.sql": "DROP TABLE ${prefix}f;"})
    (change,) = read_changes(tmp_path, placeholders={"prefix": "app_", "flyway:user": "u"})
    assert texts(change.forward) == ["CREATE TABLE app_f (id INT)"] and texts(change.rollback) == ["DROP TABLE app_f"]
    (raw,) = read_changes(tmp_path)  # no target (detect, lint): left as written
    assert texts(raw.forward) == ["CREATE TABLE ${prefix}f (id INT)"]


def test_flyway_placeholder_without_a_value_names_file_line_and_setting(tmp_path: Path) -> None:
    write(tmp_path, {"V1__f.sql": "SELECT 1;\nCREATE TABLE ${prefix}f (id INT);", "U1__f.sql": "SELECT 2;"})
    error = input_error(tmp_path, placeholders={})
    assert error.message == "no value provided for Flyway placeholder ${prefix}"
    assert_points_at(error, f"{tmp_path / 'V1__f.sql'}:2")
    assert "[flyway] placeholders" in error.hint


# --- diesel -------------------------------------------------------------------------------


def test_diesel_orders_mixed_version_spellings_by_their_digits(tmp_path: Path) -> None:
    write(tmp_path, {
        "00000000000000_diesel_initial_setup/up.sql": "CREATE FUNCTION setup() RETURNS void AS $$ "
                                                      "BEGIN END; $$ LANGUAGE plpgsql;\n",
        "00000000000000_diesel_initial_setup/down.sql": "DROP FUNCTION setup();\n",
        "20170309122510_create_posts/up.sql": "CREATE TABLE posts (id int);\n",
        "20170309122510_create_posts/down.sql": "DROP TABLE posts;\n",
        "2017-09-23-182408_index_posts/up.sql": "CREATE INDEX CONCURRENTLY posts_id ON posts (id);\n",
        "2017-09-23-182408_index_posts/down.sql": "DROP INDEX posts_id;\n",
        "2017-09-23-182408_index_posts/metadata.toml": "# diesel\nrun_in_transaction = false\n",
        "2017-03-01-000000_create_users/up.sql": "CREATE TABLE users (id int);\n",
        "2017-03-01-000000_create_users/down.sql": "DROP TABLE users;\n",
    })
    changes = read_changes(tmp_path, dialect="postgresql")
    assert [c.version for c in changes] == ["00000000000000", "20170301000000", "20170309122510",
                                           "20170923182408"]
    assert [c.description for c in changes] == ["diesel initial setup", "create users", "create posts",
                                                "index posts"]
    assert [c.no_transaction for c in changes] == [False, False, False, True]
    marker = changes[3].directive("no-transaction")
    assert marker.where == f"{tmp_path / '2017-09-23-182408_index_posts/metadata.toml'}:2"


def test_diesel_same_version_in_two_spellings_is_a_duplicate(tmp_path: Path) -> None:
    write(tmp_path, {
        "20170923182408_a/up.sql": "SELECT 1;", "20170923182408_a/down.sql": "SELECT 1;",
        "2017-09-23-182408_b/up.sql": "SELECT 2;", "2017-09-23-182408_b/down.sql": "SELECT 2;",
    })
    error = input_error(tmp_path)
    assert "duplicate version" in error.message
    assert "20170923182408_a" in error.message and "2017-09-23-182408_b" in error.message
    assert error.where and error.hint


def test_diesel_missing_down_sql(tmp_path: Path) -> None:
    write(tmp_path, {"20240101000000_x/up.sql": "CREATE TABLE x (id int);\n"})
    error = input_error(tmp_path)
    assert error.message == "no rollback for version 20240101000000"
    assert_points_at(error, f"{tmp_path / '20240101000000_x/up.sql'}:1")
    assert str(tmp_path / "20240101000000_x/down.sql") in error.hint and "irreversible" in error.hint


# --- golang-migrate -----------------------------------------------------------------------


def test_golang_migrate_mysql_delimiter_procedure(tmp_path: Path) -> None:
    write(tmp_path, {
        "000001_orders.up.sql": "CREATE TABLE orders (id INT PRIMARY KEY, total INT);\n",
        "000001_orders.down.sql": "DROP TABLE orders;\n",
        "000002_order_total.up.sql": (
            "DELIMITER //\n"
            "CREATE PROCEDURE order_total(IN oid INT)\n"
            "BEGIN\n"
            "    SELECT total FROM orders WHERE id = oid;\n"
            "END//\n"
            "DELIMITER ;\n"
            "\n"
            "GRANT EXECUTE ON PROCEDURE order_total TO 'app'@'%';\n"
        ),
        "000002_order_total.down.sql": "DROP PROCEDURE order_total;\n",
    })
    changes = read_changes(tmp_path, dialect="mysql")
    assert [c.version for c in changes] == ["000001", "000002"]
    procedure = changes[1]
    assert lines(procedure.forward) == [2, 8]
    assert procedure.forward[0].text.startswith("CREATE PROCEDURE order_total(IN oid INT)")
    assert procedure.forward[0].text.rstrip().endswith("END")
    assert "SELECT total FROM orders WHERE id = oid;" in procedure.forward[0].text
    assert texts(procedure.rollback) == ["DROP PROCEDURE order_total"]


def test_golang_migrate_down_without_up(tmp_path: Path) -> None:
    write(tmp_path, {"1_a.up.sql": "SELECT 1;", "1_a.down.sql": "SELECT 1;", "2_b.down.sql": "SELECT 2;"})
    error = input_error(tmp_path)
    assert "rollback without forward" in error.message and "2_b.down.sql" in error.message
    assert_points_at(error, f"{tmp_path / '2_b.down.sql'}:1")
    assert "2_<name>.up.sql" in error.hint


# --- dbmate -------------------------------------------------------------------------------


DBMATE = """\
-- dualpath:ticket OPS-12
-- migrate:up transaction:false
CREATE TABLE events (id bigint);

CREATE INDEX CONCURRENTLY events_id ON events (id);

-- migrate:down
DROP INDEX events_id;
-- dualpath:ticket OPS-13
DROP TABLE events;
"""


def test_dbmate_sections_keep_their_real_line_numbers(tmp_path: Path) -> None:
    write(tmp_path, {"20240105000000_events.sql": DBMATE})
    (change,) = read_changes(tmp_path, dialect="postgresql")
    assert change.version == "20240105000000" and change.description == "events"
    assert lines(change.forward) == [3, 5]
    assert lines(change.rollback) == [8, 10]
    assert texts(change.rollback) == ["DROP INDEX events_id", "DROP TABLE events"]
    assert change.no_transaction and change.directive("no-transaction").line == 2
    assert change.ticket == "OPS-12"
    # a directive in the rollback belongs to its rollback statement, not to the change
    assert change.rollback[1].directive("ticket").args["id"] == "OPS-13"
    assert [d.args.get("id") for d in change.directives if d.name == "ticket"] == ["OPS-12"]


def test_dbmate_missing_down_section(tmp_path: Path) -> None:
    write(tmp_path, {"20240105000000_events.sql": "-- migrate:up\nCREATE TABLE e (id int);\n"})
    error = input_error(tmp_path)
    assert error.message == "no rollback for version 20240105000000"
    assert_points_at(error, f"{tmp_path / '20240105000000_events.sql'}:1")
    assert "-- migrate:down" in error.hint


def test_dbmate_missing_up_marker(tmp_path: Path) -> None:
    write(tmp_path, {"20240105000000_events.sql": "CREATE TABLE e (id int);\n"})
    error = input_error(tmp_path)
    assert "migrate:up" in error.message
    assert error.where and error.hint


# --- Liquibase formatted SQL --------------------------------------------------------------


LIQUIBASE = """\
--liquibase formatted sql

--changeset alice:create-accounts
--comment: accounts and their owners
CREATE TABLE accounts (
    id int PRIMARY KEY,
    owner text NOT NULL
);
CREATE INDEX accounts_owner ON accounts (owner);
--rollback DROP INDEX accounts_owner;
--rollback DROP TABLE
--rollback     accounts;

--changeset bob:index-concurrently runInTransaction:false
CREATE INDEX CONCURRENTLY accounts_id ON accounts (id);
--rollback DROP INDEX CONCURRENTLY accounts_id;

--changeset bob:seed
INSERT INTO accounts VALUES (1, 'root');
--rollback not required
"""


def test_liquibase_changesets_with_multiline_rollbacks(tmp_path: Path) -> None:
    write(tmp_path, {"changelog.sql": LIQUIBASE, "notes.sql": "-- not liquibase\n"})
    # notes.sql is neither a Liquibase file nor any other layout's, so it is simply not read
    changes = read_changes(tmp_path, dialect="postgresql", layout="liquibase")
    assert [c.version for c in changes] == ["1.1", "1.2", "1.3"]
    assert [c.description for c in changes] == ["accounts and their owners", "index-concurrently", "seed"]
    assert [c.extra["changeset_id"] for c in changes] == ["alice:create-accounts", "bob:index-concurrently",
                                                          "bob:seed"]
    accounts, concurrently, seed = changes
    assert (accounts.file, accounts.line) == (str(tmp_path / "changelog.sql"), 3)
    assert lines(accounts.forward) == [5, 9]
    assert texts(accounts.rollback) == ["DROP INDEX accounts_owner", "DROP TABLE\n    accounts"]
    assert lines(accounts.rollback) == [10, 11]
    assert not accounts.no_transaction
    assert concurrently.no_transaction and concurrently.directive("no-transaction").line == 14
    assert seed.rollback == () and seed.extra["rollback_declared_empty"] is True
    assert accounts.extra["rollback_declared_empty"] is False


def test_liquibase_split_statements_false_and_end_delimiter(tmp_path: Path) -> None:
    write(tmp_path, {"001.sql": (
        "--liquibase formatted sql\n"
        "--changeset a:fn splitStatements:false\n"
        "CREATE FUNCTION one() RETURNS int AS 'SELECT 1; SELECT 1' LANGUAGE sql;\n"
        "--rollback DROP FUNCTION one();\n"
        "--changeset a:proc endDelimiter://\n"
        "CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END//\n"
        "CREATE PROCEDURE q() BEGIN SELECT 3; END//\n"
        "--rollback DROP PROCEDURE q//\n"
        "--rollback DROP PROCEDURE p//\n"
    ), "002.sql": "--liquibase formatted sql\n--changeset a:x\nSELECT 1;\n--rollback SELECT 2;\n"})
    fn, proc, other = read_changes(tmp_path)
    assert texts(fn.forward) == ["CREATE FUNCTION one() RETURNS int AS 'SELECT 1; SELECT 1' LANGUAGE sql"]
    assert texts(proc.forward) == ["CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END",
                                   "CREATE PROCEDURE q() BEGIN SELECT 3; END"]
    assert lines(proc.forward) == [6, 7]
    assert texts(proc.rollback) == ["DROP PROCEDURE q", "DROP PROCEDURE p"]
    assert other.version == "2.1"


@pytest.mark.parametrize("header", ["--changeset alice:", "--changeset alice"])
def test_liquibase_changeset_without_id(tmp_path: Path, header: str) -> None:
    write(tmp_path, {"c.sql": f"--liquibase formatted sql\n\n{header}\nSELECT 1;\n--rollback SELECT 2;\n"})
    error = input_error(tmp_path)
    assert "without an id" in error.message
    assert_points_at(error, f"{tmp_path / 'c.sql'}:3")


def test_liquibase_changeset_without_rollback(tmp_path: Path) -> None:
    write(tmp_path, {"c.sql": "--liquibase formatted sql\n--changeset a:one\nSELECT 1;\n"})
    error = input_error(tmp_path)
    assert error.message == "no rollback for version 1.1"
    assert_points_at(error, f"{tmp_path / 'c.sql'}:2")
    assert "--rollback" in error.hint and "irreversible" in error.hint


# --- sqitch -------------------------------------------------------------------------------


SQITCH_PLAN = """\
%syntax-version=1.0.0
%project=flipr
%uri=https://github.com/sqitchers/sqitch-intro/

appschema 2013-12-30T23:41:13Z Marge N. O'Vera <marge@example.com> # Add schema for all flipr objects.
users [appschema] 2013-12-31T00:26:43Z Marge N. O'Vera <marge@example.com>
@v1.0.0-dev1 2013-12-31T00:33:49Z Marge N. O'Vera <marge@example.com> # Tag v1.0.0-dev1.

users [users@v1.0.0-dev1] 2014-01-05T00:00:00Z Marge N. O'Vera <marge@example.com> # Add twitter column.
"""


def sqitch_project(folder: Path) -> Path:
    return write(folder, {
        "sqitch.plan": SQITCH_PLAN,
        "deploy/appschema.sql": "-- Deploy flipr:appschema to pg\n\nBEGIN;\n\nCREATE SCHEMA flipr;\n\nCOMMIT;\n",
        "revert/appschema.sql": "BEGIN;\nDROP SCHEMA flipr;\nCOMMIT;\n",
        "verify/appschema.sql": "BEGIN;\nSELECT pg_catalog.has_schema_privilege('flipr', 'usage');\nROLLBACK;\n",
        "deploy/users@v1.0.0-dev1.sql": "BEGIN;\nCREATE TABLE flipr.users (nickname text);\nCOMMIT;\n",
        "revert/users@v1.0.0-dev1.sql": "BEGIN;\nDROP TABLE flipr.users;\nCOMMIT;\n",
        "deploy/users.sql": "BEGIN;\nALTER TABLE flipr.users ADD COLUMN twitter text;\nCOMMIT;\n",
        "revert/users.sql": "BEGIN;\nALTER TABLE flipr.users DROP COLUMN twitter;\nCOMMIT;\n",
    })


def test_sqitch_plan_scripts_verify_and_rework(tmp_path: Path) -> None:
    changes = read_changes(sqitch_project(tmp_path), dialect="postgresql")
    assert [c.version for c in changes] == ["1", "2", "3"]
    assert [c.description for c in changes] == ["Add schema for all flipr objects.", "users",
                                                "Add twitter column."]
    assert [c.extra["sqitch_name"] for c in changes] == ["appschema", "users", "users"]
    schema, first_users, reworked = changes
    assert texts(schema.forward) == ["CREATE SCHEMA flipr"] and lines(schema.forward) == [5]
    assert texts(schema.rollback) == ["DROP SCHEMA flipr"]
    assert schema.extra["dropped_transaction_statements"] is True
    assert texts(schema.extra["verify"]) == ["SELECT pg_catalog.has_schema_privilege('flipr', 'usage')"]
    assert first_users.file == str(tmp_path / "deploy/users@v1.0.0-dev1.sql")
    assert first_users.extra["sqitch_requires"] == ["appschema"]
    assert first_users.extra["sqitch_tags"] == ["v1.0.0-dev1"]
    assert reworked.file == str(tmp_path / "deploy/users.sql")
    assert reworked.extra["verify"] == ()


def test_sqitch_missing_revert_names_the_plan_line(tmp_path: Path) -> None:
    sqitch_project(tmp_path)
    (tmp_path / "revert/appschema.sql").unlink()
    error = input_error(tmp_path)
    assert str(tmp_path / "revert/appschema.sql") in error.message
    assert_points_at(error, f"{tmp_path / 'sqitch.plan'}:5")


def test_sqitch_missing_deploy_names_the_plan_line(tmp_path: Path) -> None:
    sqitch_project(tmp_path)
    (tmp_path / "deploy/users.sql").unlink()
    error = input_error(tmp_path)
    assert str(tmp_path / "deploy/users.sql") in error.message
    assert_points_at(error, f"{tmp_path / 'sqitch.plan'}:9")


def test_sqitch_revert_without_plan_entry(tmp_path: Path) -> None:
    sqitch_project(tmp_path)
    write(tmp_path, {"revert/ghost.sql": "DROP TABLE ghost;\n"})
    error = input_error(tmp_path)
    assert "rollback without forward" in error.message
    assert_points_at(error, f"{tmp_path / 'revert/ghost.sql'}:1")


def test_sqitch_script_of_only_begin_commit_runs_nothing(tmp_path: Path) -> None:
    """sqitch deploys its own empty template (Registry's edit-template-workflow): a change that runs nothing."""
    sqitch_project(tmp_path)
    write(tmp_path, {"deploy/appschema.sql": "-- Deploy\nBEGIN;\n-- XXX Add DDLs here.\nCOMMIT;\n",
                     "revert/appschema.sql": "-- Revert\nBEGIN;\n-- XXX Add DDLs here.\nCOMMIT;\n"})
    notes: list[str] = []
    schema = read_changes(tmp_path, dialect="postgresql", notes=notes)[0]
    assert schema.forward == () and schema.rollback == () and schema.irreversible is None
    assert any(n.startswith(f"{tmp_path / 'deploy/appschema.sql'}:1:") and "runs nothing" in n for n in notes)


# --- directives and checksums -------------------------------------------------------------


def test_change_level_directives_anywhere_in_the_forward_file(tmp_path: Path) -> None:
    write(tmp_path, {
        "V1__drop_legacy.sql": (
            "ALTER TABLE t DROP COLUMN a;\n"
            "-- dualpath:ticket OPS-7\n"
            "ALTER TABLE t DROP COLUMN b;\n"
            '-- dualpath:irreversible reason="drops legacy data"\n'
        ),
    })
    (change,) = read_changes(tmp_path)  # irreversible: no U1 file needed
    assert change.irreversible and change.irreversible.args["reason"] == "drops legacy data"
    assert change.irreversible.line == 4
    assert change.ticket == "OPS-7"
    assert {d.name for d in change.directives} == {"ticket", "irreversible"}
    assert change.rollback == ()


def test_checksum_ignores_line_endings_and_bom_but_not_sql(tmp_path: Path) -> None:
    body = "CREATE TABLE a (id int);\nCREATE INDEX a_id ON a (id);\n"
    lf = write(tmp_path / "lf", {"V1__a.sql": body, "U1__a.sql": "DROP TABLE a;\n"})
    crlf = write(tmp_path / "crlf", {"V1__a.sql": b"\xef\xbb\xbf" + body.replace("\n", "\r\n").encode(),
                                     "U1__a.sql": b"DROP TABLE a;\r\n"})
    edited = write(tmp_path / "edited", {"V1__a.sql": body.replace("a (id)", "a (id DESC)"),
                                         "U1__a.sql": "DROP TABLE a;\n"})
    (one,), (two,), (three,) = (read_changes(f) for f in (lf, crlf, edited))
    assert one.checksum == two.checksum
    assert lines(two.forward) == [1, 2]
    assert one.checksum != three.checksum


# --- refusals -----------------------------------------------------------------------------


def test_duplicate_flyway_version_names_both_files(tmp_path: Path) -> None:
    write(tmp_path, {"V1__a.sql": "SELECT 1;", "U1__a.sql": "SELECT 1;",
                     "old/V1.0__b.sql": "SELECT 2;", "old/U1.0__b.sql": "SELECT 2;"})
    error = input_error(tmp_path)
    assert "duplicate version" in error.message
    assert "V1__a.sql" in error.message and "V1.0__b.sql" in error.message
    assert error.where and error.where.endswith(":1") and error.hint


def test_forward_without_rollback(tmp_path: Path) -> None:
    write(tmp_path, {"V1__a.sql": "SELECT 1;", "U1__a.sql": "SELECT 1;", "V2__add_b.sql": "SELECT 2;"})
    error = input_error(tmp_path)
    assert error.message == "no rollback for version 2"
    assert_points_at(error, f"{tmp_path / 'V2__add_b.sql'}:1")
    assert str(tmp_path / "U2__add_b.sql") in error.hint and "irreversible" in error.hint


def test_empty_rollback_file_counts_as_no_rollback(tmp_path: Path) -> None:
    write(tmp_path, {"V1__a.sql": "SELECT 1;", "U1__a.sql": "-- nothing to undo\n"})
    error = input_error(tmp_path)
    assert "no rollback for version 1" in error.message and "no SQL statements" in error.message
    assert_points_at(error, f"{tmp_path / 'U1__a.sql'}:1")


def test_rollback_without_forward(tmp_path: Path) -> None:
    write(tmp_path, {"V1__a.sql": "SELECT 1;", "U1__a.sql": "SELECT 1;", "U2__x.sql": "SELECT 2;"})
    error = input_error(tmp_path)
    assert "rollback without forward" in error.message and "U2__x.sql" in error.message
    assert_points_at(error, f"{tmp_path / 'U2__x.sql'}:1")
    assert "V2__" in error.hint


def test_empty_migration_file_runs_nothing_with_a_note(tmp_path: Path) -> None:
    """golang-migrate, diesel, Flyway record an empty forward file and move on; so does dualpath."""
    write(tmp_path, {"1_a.up.sql": "-- TODO\n\n", "1_a.down.sql": "", "2_b.up.sql": "SELECT 1;",
                     "2_b.down.sql": "SELECT 2;"})
    notes: list[str] = []
    first, _ = read_changes(tmp_path, notes=notes)
    assert first.forward == () and first.rollback == () and first.irreversible is None
    assert len(notes) == 1 and notes[0].startswith(f"{tmp_path / '1_a.up.sql'}:1: 1_a.up.sql has no SQL statements")


def test_mixed_layouts_list_an_example_of_each(tmp_path: Path) -> None:
    write(tmp_path, {"V1__a.sql": "SELECT 1;", "U1__a.sql": "SELECT 1;",
                     "2_b.up.sql": "SELECT 2;", "2_b.down.sql": "SELECT 2;"})
    with pytest.raises(InputError) as caught:
        detect_layout(tmp_path)
    error = caught.value
    assert "mixed migration layouts" in error.message
    assert "flyway" in error.message and "golang-migrate" in error.message
    assert "V1__a.sql" in error.message and "2_b." in error.message
    assert error.hint


def test_folder_not_found_empty_or_unrecognised(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not found"):
        read_changes(tmp_path / "missing")
    with pytest.raises(UsageError, match="empty") as empty:
        read_changes(tmp_path)
    assert "flyway" in (empty.value.hint or "")
    write(tmp_path, {"schema.sql": "CREATE TABLE a (id int);"})
    with pytest.raises(UsageError, match="no migrations recognised") as unknown:
        read_changes(tmp_path)
    for name in LAYOUTS:
        assert name in (unknown.value.hint or "")


def test_unknown_directive_propagates_with_its_line(tmp_path: Path) -> None:
    write(tmp_path, {"V1__a.sql": "SELECT 1;\n-- dualpath:no-transacton\nSELECT 2;\n", "U1__a.sql": "SELECT 1;"})
    error = input_error(tmp_path)
    assert "unknown directive" in error.message
    assert_points_at(error, f"{tmp_path / 'V1__a.sql'}:2")
    assert "no-transaction" in error.hint


def test_unterminated_quote_propagates_with_its_file(tmp_path: Path) -> None:
    write(tmp_path, {"V1__a.sql": "SELECT 1;\nSELECT 'oops;\n", "U1__a.sql": "SELECT 1;"})
    error = input_error(tmp_path, dialect="postgresql")
    assert error.where and error.where.startswith(f"{tmp_path / 'V1__a.sql'}:")


def test_not_utf8_names_the_byte_and_line(tmp_path: Path) -> None:
    write(tmp_path, {"V1__a.sql": b"SELECT 1;\nSELECT 'caf\xe9';\n", "U1__a.sql": "SELECT 1;"})
    error = input_error(tmp_path)
    assert error.message == "not UTF-8 text: byte 0xe9 at line 2; re-save the file as UTF-8"
    assert_points_at(error, f"{tmp_path / 'V1__a.sql'}:2")


REWORK_PLAN = """\
%project=rw

fn 2024-01-01T00:00:00Z A <a@x> # v1
@t1 2024-01-01T00:01:00Z A <a@x> # t1
other 2024-01-01T00:02:00Z A <a@x> # other
@t2 2024-01-01T00:03:00Z A <a@x> # t2
fn [fn@t2] 2024-01-01T00:04:00Z A <a@x> # v2
"""


@pytest.mark.parametrize("tag", ["t2", "t1"])
def test_sqitch_rework_names_older_scripts_as_sqitch_does(tmp_path: Path, tag: str) -> None:
    """`sqitch rework` names the copy after the latest tag (t2); sqitch also finds it under any tag
    in between, latest first (sqitch-intro uses the second of two tags)."""
    write(tmp_path, {"sqitch.plan": REWORK_PLAN,
                     f"deploy/fn@{tag}.sql": "CREATE TABLE fn1 (id int);", f"revert/fn@{tag}.sql": "DROP TABLE fn1;",
                     "deploy/other.sql": "CREATE TABLE o (id int);", "revert/other.sql": "DROP TABLE o;",
                     "deploy/fn.sql": "CREATE TABLE fn2 (id int);", "revert/fn.sql": "DROP TABLE fn2;"})
    first, _, second = read_changes(tmp_path, dialect="postgresql")
    assert first.file == str(tmp_path / f"deploy/fn@{tag}.sql") and texts(first.rollback) == ["DROP TABLE fn1"]
    assert second.file == str(tmp_path / "deploy/fn.sql")


def test_sqitch_rework_with_no_older_script_names_the_latest_tag(tmp_path: Path) -> None:
    write(tmp_path, {"sqitch.plan": REWORK_PLAN, "deploy/other.sql": "SELECT 1;", "revert/other.sql": "SELECT 1;",
                     "deploy/fn.sql": "SELECT 2;", "revert/fn.sql": "SELECT 2;"})
    error = input_error(tmp_path)
    assert f"{tmp_path / 'deploy/fn@t2.sql'} is missing" in error.message


def test_liquibase_preconditions_above_the_first_changeset_are_ignored_with_a_note(tmp_path: Path) -> None:
    """Liquibase's formatted SQL parser reads preconditions only under a changeset (no changelog-level ones):
    above the first changeset they guard nothing there, and nothing here, and the reader says so once."""
    (tmp_path / "changelog.sql").write_text(
        "--liquibase formatted sql\n--preconditions onFail:HALT\n--precondition-sql-check expectedResult:0 SELECT 1\n"
        "\n--changeset ana:1\nCREATE TABLE a (id INT);\n--rollback DROP TABLE a;\n")
    notes: list[str] = []
    (change,) = read_changes(tmp_path, notes=notes)
    assert "preconditions" not in change.extra
    assert len(notes) == 1 and "changelog.sql:2" in notes[0] and "Liquibase ignores them" in notes[0]
