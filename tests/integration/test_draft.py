"""`dualpath draft-rollbacks`: drafts from a shadow's before/after schema, written in each layout, proved.

Every draft here is proved twice: by `draft-rollbacks --prove` (verify's round trip on a new shadow)
and by `dualpath verify` on the folder as written, which the strict reader must now accept.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from dualpath.changes import Change
from dualpath.draft.layouts import write_rollback
from dualpath.errors import InputError
from dualpath.sources import read_changes
from tests.integration.helpers import dialect_of, run_cli
from tests.unit.layouts import KINDS, write_layout

_TEXT = {"postgresql": "text", "mysql": "TEXT", "sqlite": "TEXT"}

# (name, forward SQL) per dialect; None: the dialect cannot do it in place (SQLite has no ALTER COLUMN TYPE)
_CASES: dict[str, dict[str, str | None]] = {
    "create_table": {d: "CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL, note {text});"
                     for d in _TEXT},
    "add_column": {d: "ALTER TABLE items ADD COLUMN price INTEGER NOT NULL DEFAULT 0;" for d in _TEXT},
    "add_index": {"postgresql": "CREATE INDEX items_name_idx ON items (name);",
                  "mysql": "CREATE INDEX items_name_idx ON items (name);",
                  "sqlite": "CREATE INDEX items_name_idx ON items (name);"},
    "create_view": {d: "CREATE VIEW item_ids AS SELECT id FROM items;" for d in _TEXT},
    "drop_column": {d: "ALTER TABLE items DROP COLUMN note;" for d in _TEXT},
    "alter_type": {"postgresql": "ALTER TABLE items ALTER COLUMN name TYPE VARCHAR(200);",
                   "mysql": "ALTER TABLE items MODIFY COLUMN name VARCHAR(200) NOT NULL;",
                   "sqlite": None},
    "rename_column": {d: "ALTER TABLE items RENAME COLUMN price TO cost;" for d in _TEXT},
    "drop_table": {d: "DROP TABLE scratch;" for d in _TEXT},
}


def _write_cases(folder: Path, dialect: str) -> list[str]:
    """golang-migrate: a first change with its rollback, then one change per case with none (or an empty one)."""
    folder.mkdir()
    (folder / "000001_base.up.sql").write_text("CREATE TABLE scratch (id INTEGER PRIMARY KEY, label VARCHAR(20));\n")
    (folder / "000001_base.down.sql").write_text("DROP TABLE scratch;\n")
    names = []
    for n, (name, sql) in enumerate(_CASES.items(), start=2):
        text = sql.get(dialect) if sql else None
        if text is None:
            continue
        stem = f"{n:06d}_{name}"
        (folder / f"{stem}.up.sql").write_text(text.format(text=_TEXT[dialect]) + "\n")
        if n % 2:  # every other one has an empty rollback file, as tools generate them
            (folder / f"{stem}.down.sql").write_text("-- write the rollback here\n")
        names.append(name)
    return names


def test_each_kind_of_change_gets_a_draft_that_round_trips(any_url: str, tmp_path: Path) -> None:
    dialect = dialect_of(any_url)
    folder = tmp_path / "m"
    names = _write_cases(folder, dialect)

    dry = run_cli("draft-rollbacks", "--url", any_url, "--migrations", str(folder), "--prove")
    assert dry.exit_code == 0, dry.output
    assert dry.stdout.count("; proved") == len(names), dry.stdout
    assert not list(folder.glob("*create_table.down.sql")), "a dry run writes nothing"

    done = run_cli("draft-rollbacks", "--url", any_url, "--migrations", str(folder), "--write", "--prove")
    assert done.exit_code == 0, done.output
    assert done.stdout.count("; proved") == len(names), done.stdout
    assert "replaced an empty rollback file" in done.stdout and "new file" in done.stdout

    drafts = {c.description.replace(" ", "_"): c for c in read_changes(folder, dialect=dialect)}  # strict reader
    sql = {name: "\n".join(s.text for s in drafts[name].rollback) for name in names}
    text = {name: Path(str(drafts[name].rollback_file)).read_text() for name in names}
    assert all(t.startswith("-- drafted by dualpath from schema diff on ") for t in text.values())
    assert re.search(r"DROP TABLE \W?items", sql["create_table"])
    assert re.search(r"DROP COLUMN \W?price", sql["add_column"])
    assert "DROP INDEX" in sql["add_index"] and "items_name_idx" in sql["add_index"]
    assert re.search(r"DROP VIEW \W?item_ids", sql["create_view"])
    assert re.search(r"ADD COLUMN \W?note", sql["drop_column"])
    assert '-- dualpath:irreversible reason="column items.note comes back empty"' in text["drop_column"]
    assert re.search(r"RENAME COLUMN \W?cost\W? TO \W?price", sql["rename_column"])
    assert "taken for a rename" in text["rename_column"]
    assert re.search(r"CREATE TABLE \W?scratch", sql["drop_table"])
    assert "table scratch comes back empty" in text["drop_table"]
    if "alter_type" in names:
        assert "VARCHAR(50)" in sql["alter_type"].upper()
        assert "irreversible" not in text["alter_type"]  # widening: every value comes back

    verified = run_cli("verify", "--url", any_url, "--migrations", str(folder))
    assert verified.exit_code == 0, verified.output
    assert verified.stdout.count("round trip ok") == len(names) + 1


def test_narrowing_a_column_is_drafted_irreversible(pg_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "1_t.up.sql").write_text("CREATE TABLE t (id integer PRIMARY KEY, code varchar(100));\n")
    (folder / "1_t.down.sql").write_text("DROP TABLE t;\n")
    (folder / "2_narrow.up.sql").write_text("ALTER TABLE t ALTER COLUMN code TYPE varchar(10);\n")
    result = run_cli("draft-rollbacks", "--url", pg_url, "--migrations", str(folder))
    assert result.exit_code == 0, result.output
    assert ('-- dualpath:irreversible reason="t.code was narrowed from VARCHAR(100) to VARCHAR(10): '
            'values cut by the change do not come back"') in result.stdout
    assert "ALTER TABLE t ALTER COLUMN code TYPE VARCHAR(100)" in result.stdout
    assert not (folder / "2_narrow.down.sql").exists()


def _strip_rollbacks(kind: str, folder: Path) -> None:
    """The example project of ``kind`` with its rollbacks removed or emptied, as real folders have them."""
    if kind == "flyway":
        for path in folder.glob("U*.sql"):
            path.unlink()
    elif kind == "diesel":
        for path in folder.glob("*/down.sql"):
            path.write_text("-- This file should undo anything in `up.sql`\n")
    elif kind == "golang-migrate":
        for path in folder.glob("*.down.sql"):
            path.unlink()
    elif kind == "dbmate":
        for path in folder.glob("*.sql"):
            text = path.read_text()
            path.write_text(text[: text.index("-- migrate:down")] + "-- migrate:down\n\n")
    elif kind == "liquibase":
        path = folder / "changelog.sql"
        path.write_text("".join(line for line in path.read_text().splitlines(keepends=True)
                                if not line.startswith("--rollback")))
    elif kind == "sqitch":
        shutil.rmtree(folder / "revert")


@pytest.mark.parametrize("kind", KINDS)
def test_each_layout_gets_its_drafts_where_its_reader_finds_them(kind: str, pg_url: str, tmp_path: Path) -> None:
    folder = write_layout(kind, tmp_path / kind, "postgresql")
    _strip_rollbacks(kind, folder)
    with pytest.raises(InputError, match="no rollback"):
        read_changes(folder, dialect="postgresql")

    result = run_cli("draft-rollbacks", "--url", pg_url, "--migrations", str(folder), "--write", "--prove")
    assert result.exit_code == 0, result.output
    assert result.stdout.count("; proved") == 2, result.stdout

    changes = read_changes(folder, dialect="postgresql")  # the strict reader takes the drafts as rollbacks
    assert [len(c.rollback) > 0 for c in changes] == [True, True]
    assert re.search(r"DROP TABLE \W?widgets", changes[0].rollback[-1].text)
    assert any(re.search(r"DROP COLUMN \W?price", s.text) for s in changes[1].rollback)
    verified = run_cli("verify", "--url", pg_url, "--migrations", str(folder))
    assert verified.exit_code == 0, verified.output

    again = run_cli("draft-rollbacks", "--url", pg_url, "--migrations", str(folder), "--write")
    assert again.exit_code == 0 and "nothing to draft" in again.stdout


def test_a_rollback_with_sql_is_never_overwritten(tmp_path: Path) -> None:
    folder = write_layout("golang-migrate", tmp_path / "m", "postgresql")
    change: Change = read_changes(folder, dialect="postgresql")[0]
    before = Path(str(change.rollback_file)).read_text()
    with pytest.raises(InputError, match="already has a rollback"):
        write_rollback(change, folder, ["DROP TABLE widgets;"])
    assert Path(str(change.rollback_file)).read_text() == before


def test_a_draft_that_does_not_round_trip_fails_with_the_difference(pg_url: str, tmp_path: Path) -> None:
    """A sequence's settings are outside what the draft re-creates: named in a review line, caught by the proof."""
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "1_s.up.sql").write_text("CREATE SEQUENCE ids;\n")
    (folder / "1_s.down.sql").write_text("DROP SEQUENCE ids;\n")
    (folder / "2_s.up.sql").write_text("ALTER SEQUENCE ids INCREMENT BY 5;\nCREATE TABLE keep (id integer);\n")
    result = run_cli("draft-rollbacks", "--url", pg_url, "--migrations", str(folder), "--prove")
    assert result.exit_code == 1, result.output
    assert "-- review: not drafted: sequence ids was changed by the change" in result.stdout
    assert "; failed" in result.stdout and "sequence ids: not restored by the rollback" in result.stdout
    assert "next:" in result.output


_REMADE = {  # the same names, other definitions: a foreign key's action, a check, an index's uniqueness
    "postgresql": "ALTER TABLE c DROP CONSTRAINT c_fk;\n"
                  "ALTER TABLE c ADD CONSTRAINT c_fk FOREIGN KEY (p_id) REFERENCES p (id) ON DELETE CASCADE;\n"
                  "ALTER TABLE c DROP CONSTRAINT c_chk;\nALTER TABLE c ADD CONSTRAINT c_chk CHECK (code > 1);\n"
                  "DROP INDEX c_code;\nCREATE INDEX c_code ON c (code);\n",
    "mysql": "ALTER TABLE c DROP FOREIGN KEY c_fk;\n"
             "ALTER TABLE c ADD CONSTRAINT c_fk FOREIGN KEY (p_id) REFERENCES p (id) ON DELETE CASCADE;\n"
             "ALTER TABLE c DROP CONSTRAINT c_chk;\nALTER TABLE c ADD CONSTRAINT c_chk CHECK (code > 1);\n"
             "ALTER TABLE c DROP INDEX c_code, ADD INDEX c_code (code);\n",
}


@pytest.mark.parametrize("backend", ["pg_url", "mysql_url"])
def test_a_key_or_index_remade_under_its_own_name_is_put_back_as_it_was(
        backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """flipt's MySQL migrations turn unique index `key` into a plain one of the same name, and MySQL names
    the foreign keys a change adds `<table>_ibfk_1`... again: comparing names alone drafted nothing for
    them, and the draft failed its proof (the old foreign key still needed the index it dropped)."""
    url = str(request.getfixturevalue(backend))
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "1_base.up.sql").write_text(
        "CREATE TABLE p (id INTEGER PRIMARY KEY);\n"
        "CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER, code INTEGER, "
        "CONSTRAINT c_fk FOREIGN KEY (p_id) REFERENCES p (id), CONSTRAINT c_chk CHECK (code > 0));\n"
        "CREATE UNIQUE INDEX c_code ON c (code);\n")
    (folder / "1_base.down.sql").write_text("DROP TABLE c;\nDROP TABLE p;\n")
    (folder / "2_remade.up.sql").write_text(_REMADE[dialect_of(url)])
    result = run_cli("draft-rollbacks", "--url", url, "--migrations", str(folder), "--prove")
    assert result.exit_code == 0, result.output
    assert "2 remade" in result.stdout and "; proved" in result.stdout


def test_a_column_of_a_type_sqlalchemy_does_not_know_is_drafted_with_the_servers_type(
        pg_url: str, tmp_path: Path) -> None:
    """crates.io and lemmy use ltree (an extension's type): reflection reads it as NullType, and drafting
    the rollback of a change that drops such a column stopped with an internal error."""
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "1_base.up.sql").write_text("CREATE EXTENSION IF NOT EXISTS ltree;\n"
                                          "CREATE TABLE tree (id integer PRIMARY KEY, path ltree NOT NULL);\n")
    (folder / "1_base.down.sql").write_text("DROP TABLE tree;\n")
    (folder / "2_flat.up.sql").write_text("ALTER TABLE tree DROP COLUMN path;\n")
    result = run_cli("draft-rollbacks", "--url", pg_url, "--migrations", str(folder), "--prove")
    assert result.exit_code == 0, result.output
    assert "ALTER TABLE tree ADD COLUMN path ltree NOT NULL" in result.stdout
    assert "; proved" in result.stdout


def test_routines_are_dropped_newest_first(pg_url: str, tmp_path: Path) -> None:
    """kestra's first Flyway migration makes functions with SQL-standard bodies that call each other
    (PostgreSQL records that dependency): dropped by name, the called one went first and failed."""
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "1_f.up.sql").write_text(
        "CREATE FUNCTION a_base(text) RETURNS text LANGUAGE SQL IMMUTABLE RETURN lower($1);\n"
        "CREATE FUNCTION b_user(text) RETURNS text LANGUAGE SQL IMMUTABLE RETURN a_base($1) || '!';\n")
    result = run_cli("draft-rollbacks", "--url", pg_url, "--migrations", str(folder), "--prove")
    assert result.exit_code == 0, result.output
    assert result.stdout.index("DROP FUNCTION b_user") < result.stdout.index("DROP FUNCTION a_base")


def test_a_change_in_two_schemas_gets_a_draft_for_both(pg_url: str, tmp_path: Path) -> None:
    """peerdb's Flyway migrations change public and peerdb_stats tables in one file: the draft covered
    the default schema only and failed its proof; tables, columns and indexes of every schema are drafted,
    what still is not (a view in another schema) is named."""
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "1_base.up.sql").write_text("CREATE SCHEMA stats;\nCREATE TABLE stats.runs (id integer PRIMARY KEY);\n"
                                          "CREATE TABLE stats.gone (id integer);\nCREATE TABLE flows (id integer);\n")
    (folder / "1_base.down.sql").write_text("DROP TABLE flows;\nDROP TABLE stats.runs, stats.gone;\n"
                                            "DROP SCHEMA stats;\n")
    (folder / "2_both.up.sql").write_text("ALTER TABLE flows ADD COLUMN status text;\n"
                                          "ALTER TABLE stats.runs ADD COLUMN rows_synced bigint;\n"
                                          "CREATE INDEX runs_rows ON stats.runs (rows_synced);\n"
                                          "CREATE TABLE stats.counts (n integer);\nDROP TABLE stats.gone;\n")
    result = run_cli("draft-rollbacks", "--url", pg_url, "--migrations", str(folder), "--prove")
    assert result.exit_code == 0, result.output
    assert "ALTER TABLE flows DROP COLUMN status" in result.stdout
    assert "ALTER TABLE stats.runs DROP COLUMN rows_synced" in result.stdout
    assert "DROP TABLE stats.counts" in result.stdout and "CREATE TABLE stats.gone" in result.stdout
    assert "; proved" in result.stdout
    (folder / "3_view.up.sql").write_text("CREATE VIEW stats.v AS SELECT id FROM stats.runs;\n")
    (folder / "2_both.down.sql").write_text("SELECT 1;\n")  # not drafted again: only 3 lacks a rollback
    viewed = run_cli("draft-rollbacks", "--url", pg_url, "--migrations", str(folder))
    assert "no draft: not drafted: the change made schema changes outside what drafts cover" in viewed.stdout
    assert "view stats.v: extra after" in viewed.stdout


def test_a_generated_column_whose_expression_changed_is_rebuilt_as_it_was(pg_url: str, tmp_path: Path) -> None:
    """kestra's V1_13 drops a stored generated column (and so its GIN index) and adds it again with another
    expression: the draft made the index again but left the new expression, and failed its proof."""
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "1_base.up.sql").write_text(
        "CREATE TABLE logs (id integer PRIMARY KEY, msg text, "
        "words tsvector GENERATED ALWAYS AS (to_tsvector('simple', coalesce(msg, ''))) STORED, "
        "size integer GENERATED ALWAYS AS (length(msg)) STORED);\n"
        "CREATE INDEX logs_words ON logs USING gin (words);\n"
        "CREATE INDEX logs_size ON logs (size);\n")
    (folder / "1_base.down.sql").write_text("DROP TABLE logs;\n")
    (folder / "2_words.up.sql").write_text(
        "ALTER TABLE logs DROP COLUMN words;\n"
        "ALTER TABLE logs ADD COLUMN words tsvector GENERATED ALWAYS AS (to_tsvector('english', msg)) STORED;\n"
        "ALTER TABLE logs DROP COLUMN size;\n"
        "ALTER TABLE logs ADD COLUMN size integer GENERATED ALWAYS AS (octet_length(msg)) STORED;\n"
        "CREATE INDEX logs_size ON logs (size);\n")
    result = run_cli("draft-rollbacks", "--url", pg_url, "--migrations", str(folder), "--prove")
    assert result.exit_code == 0, result.output
    assert "ALTER TABLE logs DROP COLUMN words" in result.stdout
    assert "CREATE INDEX logs_words ON logs USING gin (words)" in result.stdout
    assert "CREATE INDEX logs_size ON logs (size)" in result.stdout  # same index, dropped with its column
    assert "irreversible" not in result.stdout and "; proved" in result.stdout


def test_a_column_made_bytea_goes_back_through_its_text(pg_url: str, tmp_path: Path) -> None:
    """peerdb's V35 turns a jsonb column into bytea with convert_to(...): PostgreSQL has no cast from bytea
    back, so the drafted `USING col::jsonb` failed its proof."""
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "1_base.up.sql").write_text("CREATE TABLE alerting (id integer PRIMARY KEY, config jsonb NOT NULL);\n"
                                          "INSERT INTO alerting VALUES (1, '{\"a\": \"é\"}');\n")
    (folder / "1_base.down.sql").write_text("DROP TABLE alerting;\n")
    (folder / "2_bytes.up.sql").write_text(
        "ALTER TABLE alerting ALTER COLUMN config TYPE bytea USING convert_to(config::text, 'utf-8');\n")
    result = run_cli("draft-rollbacks", "--url", pg_url, "--migrations", str(folder), "--prove")
    assert result.exit_code == 0, result.output
    assert "USING convert_from(config, 'UTF8')::JSONB" in result.stdout and "; proved" in result.stdout


def test_an_enum_given_labels_is_made_again_as_it_was(pg_url: str, tmp_path: Path) -> None:
    """kestra adds labels to its state enum (ALTER TYPE ... ADD VALUE), which a function returns and a
    generated column and a defaulted column use; PostgreSQL cannot remove a label, so the draft said
    "by hand" and the proof failed. It is made again around its users; a renamed label goes back."""
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "1_base.up.sql").write_text(
        "CREATE TYPE state AS ENUM ('CREATED', 'RUNNING');\n"
        "CREATE TYPE queue AS ENUM ('a.Flow', 'a.Run');\n"
        "CREATE FUNCTION state_of(text) RETURNS state LANGUAGE sql IMMUTABLE AS $$ SELECT $1::state $$;\n"
        "CREATE TABLE runs (id integer PRIMARY KEY, v text NOT NULL, q queue, "
        "current state GENERATED ALWAYS AS (state_of(v)) STORED, wanted state NOT NULL DEFAULT 'CREATED');\n"
        "CREATE INDEX runs_current ON runs (current);\n"
        "INSERT INTO runs (id, v, q) VALUES (1, 'RUNNING', 'a.Flow');\n")
    (folder / "1_base.down.sql").write_text("DROP TABLE runs;\nDROP FUNCTION state_of(text);\n"
                                            "DROP TYPE state;\nDROP TYPE queue;\n")
    (folder / "2_labels.up.sql").write_text("ALTER TYPE state ADD VALUE 'QUEUED';\n"
                                            "ALTER TYPE state ADD VALUE 'KILLED' BEFORE 'RUNNING';\n"
                                            "ALTER TYPE queue RENAME VALUE 'a.Flow' TO 'a.FlowWithSource';\n")
    result = run_cli("draft-rollbacks", "--url", pg_url, "--migrations", str(folder), "--prove")
    assert result.exit_code == 0, result.output
    assert "CREATE TYPE state AS ENUM ('CREATED', 'RUNNING')" in result.stdout
    assert "ALTER TYPE queue RENAME VALUE 'a.FlowWithSource' TO 'a.Flow'" in result.stdout
    assert "; proved" in result.stdout


def test_a_function_the_change_replaced_is_restored_as_it_was(pg_url: str, tmp_path: Path) -> None:
    """kestra's V1_27 replaces a function's body: the draft said "restore it by hand"."""
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "1_base.up.sql").write_text(
        "CREATE FUNCTION clean(t text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN RETURN lower(t); END $$;\n")
    (folder / "1_base.down.sql").write_text("DROP FUNCTION clean(text);\n")
    (folder / "2_replace.up.sql").write_text(
        "CREATE OR REPLACE FUNCTION clean(t text) RETURNS text LANGUAGE plpgsql IMMUTABLE "
        "AS $$ BEGIN RETURN upper(t); END $$;\n")
    result = run_cli("draft-rollbacks", "--url", pg_url, "--migrations", str(folder), "--prove")
    assert result.exit_code == 0, result.output
    assert "CREATE OR REPLACE FUNCTION public.clean(t text)" in result.stdout and "lower(t)" in result.stdout
    assert "; proved" in result.stdout


def test_a_foreign_key_whose_index_the_server_made_is_added_as_first_declared(
        mysql_url: str, tmp_path: Path) -> None:
    """flipt's 15th MySQL migration re-adds `rule_segments_ibfk_2` with another ON DELETE. MariaDB had made
    index `namespace_key` for the unnamed key and replaces it by `rule_segments_ibfk_2`; a draft that
    made the index with CREATE INDEX turned it into the user's, so the change run again kept it, and the
    proof failed. The key is added without its name, as first declared, and the server makes both again."""
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "1_base.up.sql").write_text(
        "CREATE TABLE segs (ns VARCHAR(20) NOT NULL, k VARCHAR(20) NOT NULL, PRIMARY KEY (ns, k));\n"
        "CREATE TABLE rules (id INTEGER PRIMARY KEY);\n"
        "CREATE TABLE rule_segs (rule_id INTEGER NOT NULL, ns VARCHAR(20) NOT NULL, sk VARCHAR(20) NOT NULL, "
        "FOREIGN KEY (rule_id) REFERENCES rules (id) ON DELETE CASCADE, "
        "FOREIGN KEY (ns, sk) REFERENCES segs (ns, k) ON DELETE CASCADE);\n")
    (folder / "1_base.down.sql").write_text("DROP TABLE rule_segs;\nDROP TABLE rules;\nDROP TABLE segs;\n")
    (folder / "2_restrict.up.sql").write_text(
        "ALTER TABLE rule_segs DROP FOREIGN KEY `rule_segs_ibfk_2`;\n"
        "ALTER TABLE rule_segs ADD CONSTRAINT `rule_segs_ibfk_2` FOREIGN KEY (ns, sk) REFERENCES segs (ns, k) "
        "ON DELETE RESTRICT;\n")
    result = run_cli("draft-rollbacks", "--url", mysql_url, "--migrations", str(folder), "--prove")
    assert result.exit_code == 0, result.output
    assert "ALTER TABLE rule_segs ADD FOREIGN KEY(ns, sk) REFERENCES segs (ns, k) ON DELETE CASCADE" in result.stdout
    assert "CREATE INDEX ns" not in result.stdout and "; proved" in result.stdout
