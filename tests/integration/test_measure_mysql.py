"""MariaDB: the cheapest ALGORITHM and LOCK the server accepts for each statement, and what it really did
(rows copied, a new InnoDB table id), measured on a shadow with 10 sampled rows."""

from __future__ import annotations

from pathlib import Path

from dualpath.risk.lint import lint_paths
from tests.integration.measure_support import load, measure, rules, shadows_left, work, write

SCHEMA = """
CREATE TABLE t (id int PRIMARY KEY, v varchar(20), n int, note varchar(20), w varchar(40), x varchar(40),
                KEY t_n (n)) DEFAULT CHARSET=utf8mb4;
INSERT INTO t SELECT seq, CONCAT('v', seq), seq, 'x', 'w', 'x' FROM seq_1_to_10;
"""


def test_add_column_at_the_end_is_instant_and_a_type_change_copies(mysql_url: str) -> None:
    measurement, found = measure(mysql_url, SCHEMA, {
        "add_column": "ALTER TABLE t ADD COLUMN c int",
        "to_bigint": "ALTER TABLE t MODIFY n bigint",
    })
    instant = work(measurement, "add_column.sql:1", "t")
    assert instant.algorithm == "INSTANT" and not instant.rewritten and instant.rows_written == 0
    assert not {"DP080", "DP053"} & rules(found["add_column"])  # measured: nothing to say, no ALGORITHM nag

    copy = work(measurement, "to_bigint.sql:1", "t")
    assert (copy.algorithm, copy.lock_clause) == ("COPY", "SHARED")  # LOCK=NONE refused for a copy
    assert copy.rewritten and copy.rows_written == 10  # every sampled row written again
    [finding] = [f for f in found["to_bigint"] if f.rule == "DP080"]
    assert "table copied (ALGORITHM=COPY" in finding.message and "blocking writes" in finding.message
    assert not {"DP051", "DP053"} & rules(found["to_bigint"])


def test_varchar_widening_is_instant_until_it_crosses_255_bytes(mysql_url: str) -> None:
    # utf8mb4: 4 bytes a character. Up to 255 bytes a value's length takes 1 byte, past that 2 bytes from
    # 128 bytes on: widening past 255 is instant only while every old value is shorter than 128 bytes
    measurement, found = measure(mysql_url, SCHEMA, {
        "within": "ALTER TABLE t MODIFY w varchar(60)",  # 160 → 240 bytes
        "across": "ALTER TABLE t MODIFY x varchar(70)",  # 160 → 280 bytes
        "short": "ALTER TABLE t MODIFY v varchar(70)",  # 80 → 280 bytes: old values all under 128 bytes
    })
    assert work(measurement, "within.sql:1", "t").algorithm == "INSTANT"
    assert "DP080" not in rules(found["within"])
    across = work(measurement, "across.sql:1", "t")
    assert across.algorithm == "COPY" and across.rows_written == 10
    assert "DP080" in rules(found["across"])
    assert work(measurement, "short.sql:1", "t").algorithm == "INSTANT"
    assert "DP080" not in rules(found["short"])


def test_online_index_builds_and_rebuilds_block_nothing(mysql_url: str) -> None:
    measurement, found = measure(mysql_url, SCHEMA, {
        "index": "CREATE INDEX t_note_idx ON t (note)",
        "not_null": "ALTER TABLE t MODIFY note varchar(20) NOT NULL",
    })
    index = work(measurement, "index.sql:1", "t")
    assert (index.algorithm, index.lock_clause) == ("NOCOPY", "NONE") and index.indexes_built == ("t_note_idx",)
    rebuilt = work(measurement, "not_null.sql:1", "t")
    assert (rebuilt.algorithm, rebuilt.lock_clause) == ("INPLACE", "NONE")
    assert rebuilt.rewritten and rebuilt.rows_written == 0  # rebuilt in place (a new table id), not copied
    assert "DP080" not in rules(found["index"]) | rules(found["not_null"])


def test_what_the_statement_did_when_it_cannot_be_asked_for_an_algorithm(mysql_url: str) -> None:
    # ORDER BY takes no ALGORITHM clause (a syntax error): the handler counters show it copied the rows
    measurement, found = measure(mysql_url, SCHEMA, {"order_by": "ALTER TABLE t ORDER BY n"})
    ordered = work(measurement, "order_by.sql:1", "t")
    assert ordered.algorithm == "COPY" and ordered.rows_written == 10
    [finding] = [f for f in found["order_by"] if f.rule == "DP080"]
    assert "a copy holds at least LOCK=SHARED" in finding.message


def test_a_stated_clause_is_measured_as_stated(mysql_url: str) -> None:
    measurement, found = measure(mysql_url, SCHEMA, {
        "stated": "ALTER TABLE t ADD COLUMN c int, ALGORITHM=COPY, LOCK=EXCLUSIVE"})
    stated = work(measurement, "stated.sql:1", "t")
    assert (stated.algorithm, stated.lock_clause) == ("COPY", "EXCLUSIVE") and stated.rows_written == 10
    assert any("blocking reads and writes" in f.message for f in found["stated"] if f.rule == "DP080")


def test_mass_updates_are_measured(mysql_url: str) -> None:
    measurement, found = measure(mysql_url, SCHEMA, {
        "all_rows": "UPDATE t SET n = n + 1 WHERE id > 0",
        "one_row": "UPDATE t SET n = 0 WHERE id = 4",
    })
    everything = work(measurement, "all_rows.sql:1", "t")
    assert (everything.rows_written, everything.sample_rows) == (10, 10)
    assert "DP080" in rules(found["all_rows"]) and "DP080" not in rules(found["one_row"])


def test_lint_url_on_mariadb_drops_its_shadow(mysql_url: str, tmp_path: Path) -> None:
    load(mysql_url, SCHEMA)
    sql = write(tmp_path, "a.sql", "ALTER TABLE t ADD COLUMN c int;\nALTER TABLE t MODIFY n bigint;\n")
    found = lint_paths([sql], dialect="mysql", url=mysql_url)
    assert [(f.line, f.rule) for f in found if f.rule == "DP080"] == [(2, "DP080")]
    assert shadows_left(mysql_url) == []
