"""PostgreSQL: each statement measured on a shadow (10 sampled rows are enough to see a rewrite), judged by
what it did, and settling the static rules' guesses for that statement."""

from __future__ import annotations

from pathlib import Path

from dualpath.risk.lint import lint_paths
from tests.integration.measure_support import measure, rules, shadows_left, work, write

SCHEMA = """
CREATE TABLE t (id int PRIMARY KEY, v varchar(20), n int, note text);
CREATE INDEX t_v_idx ON t (v);
CREATE INDEX t_n_idx ON t (n);
INSERT INTO t SELECT g, 'v' || g, g, 'x' FROM generate_series(1, 10) g;
CREATE TABLE u (id int PRIMARY KEY, t_id int, total int);
INSERT INTO u SELECT g, g, g FROM generate_series(1, 10) g;
"""


def test_type_changes_are_measured_rewrite_or_not(pg_url: str) -> None:
    measurement, found = measure(pg_url, SCHEMA, {
        "to_text": "ALTER TABLE t ALTER COLUMN v TYPE text",
        "to_bigint": "ALTER TABLE t ALTER COLUMN n TYPE bigint",
    })
    coercible = work(measurement, "to_text.sql:1", "t")
    assert not coercible.rewritten and not coercible.indexes_rebuilt  # varchar → text: binary coercible
    assert coercible.lock == "ACCESS EXCLUSIVE"
    assert not {"DP009", "DP080"} & rules(found["to_text"]), found["to_text"]

    rewrite = work(measurement, "to_bigint.sql:1", "t")
    assert rewrite.rewritten and "t_n_idx" in rewrite.indexes_rebuilt
    assert rewrite.scans >= 1 and rewrite.rows_read >= 10
    [finding] = [f for f in found["to_bigint"] if f.rule == "DP080"]
    assert "table rewritten" in finding.message and "ACCESS EXCLUSIVE held" in finding.message
    assert "DP009" not in rules(found["to_bigint"])  # the measurement settles the static guess


def test_index_builds_are_judged_by_the_lock_they_hold(pg_url: str) -> None:
    measurement, found = measure(pg_url, SCHEMA, {
        "plain": "CREATE INDEX t_note_idx ON t (note)",
        "concurrent": "CREATE INDEX CONCURRENTLY u_total_idx ON u (total)",
    })
    plain = work(measurement, "plain.sql:1", "t")
    assert plain.indexes_built == ("t_note_idx",) and plain.lock == "SHARE"
    [finding] = [f for f in found["plain"] if f.rule == "DP080"]
    assert "index t_note_idx built" in finding.message and "blocking writes" in finding.message
    assert "DP001" not in rules(found["plain"])

    concurrent = work(measurement, "concurrent.sql:1", "u")  # outside a transaction, watched from outside
    assert concurrent.indexes_built == ("u_total_idx",) and concurrent.lock == "SHARE UPDATE EXCLUSIVE"
    assert "DP080" not in rules(found["concurrent"])


def test_materialized_views_are_refreshed_on_the_shadow_first(pg_url: str) -> None:
    schema = SCHEMA + ("CREATE MATERIALIZED VIEW u_totals AS SELECT id, total FROM u;\n"
                       "CREATE UNIQUE INDEX u_totals_id ON u_totals (id);")
    measurement, found = measure(pg_url, schema, {
        "plain": "REFRESH MATERIALIZED VIEW u_totals",
        "concurrent": "REFRESH MATERIALIZED VIEW CONCURRENTLY u_totals",
    })
    plain = work(measurement, "plain.sql:1", "u_totals")
    assert plain.rewritten and plain.lock == "ACCESS EXCLUSIVE" and "DP080" in rules(found["plain"])
    concurrent = work(measurement, "concurrent.sql:1", "u_totals")  # populated from the sample: not refused
    assert not concurrent.rewritten and concurrent.lock == "EXCLUSIVE"
    assert "DP080" not in rules(found["concurrent"])  # EXCLUSIVE lets reads through; the view is not rewritten


def test_one_finding_a_statement_names_every_table_it_blocks(pg_url: str) -> None:
    _, found = measure(pg_url, SCHEMA, {
        "foreign_key": "ALTER TABLE u ADD CONSTRAINT u_t_fk FOREIGN KEY (t_id) REFERENCES t (id)"})
    [finding] = [f for f in found["foreign_key"] if f.rule == "DP080"]
    assert "u_t_fk validated against every row on u" in finding.message
    assert "SHARE ROW EXCLUSIVE" in finding.message and " on t;" in finding.message + ";"
    assert "DP004" not in rules(found["foreign_key"])


def test_truncate_gets_new_storage_but_is_no_rewrite(pg_url: str) -> None:
    measurement, found = measure(pg_url, SCHEMA, {"truncate": "TRUNCATE u"})
    assert work(measurement, "truncate.sql:1", "u").rewritten  # a new relfilenode, empty
    assert "DP080" not in rules(found["truncate"]) and "DP021" in rules(found["truncate"])


def test_scans_and_validations_are_measured(pg_url: str) -> None:
    measurement, found = measure(pg_url, SCHEMA, {
        "set_not_null": "ALTER TABLE u ALTER COLUMN total SET NOT NULL",
        "check": "ALTER TABLE u ADD CONSTRAINT u_total_pos CHECK (total > 0)",
        "check_not_valid": "ALTER TABLE u ADD CONSTRAINT u_total_small CHECK (total < 1000) NOT VALID",
    })
    scanned = work(measurement, "set_not_null.sql:1", "u")
    assert scanned.scans == 1 and scanned.rows_read == 10 and not scanned.rewritten
    assert any("every row scanned" in f.message for f in found["set_not_null"] if f.rule == "DP080")
    assert "DP006" not in rules(found["set_not_null"])

    checked = work(measurement, "check.sql:1", "u")
    assert checked.validated == ("u_total_pos",) and checked.scans >= 1
    assert any("u_total_pos validated against every row" in f.message for f in found["check"] if f.rule == "DP080")

    unchecked = work(measurement, "check_not_valid.sql:1", "u")
    assert unchecked.validated == () and unchecked.scans == 0
    assert not {"DP005", "DP080"} & rules(found["check_not_valid"])


def test_the_change_transaction_scope_decides_the_lock(pg_url: str) -> None:
    measurement, found = measure(pg_url, SCHEMA, {
        "one_transaction": "ALTER TABLE u ADD CONSTRAINT u_a CHECK (total > 0) NOT VALID;\n"
                           "ALTER TABLE u VALIDATE CONSTRAINT u_a;",
        "own_transaction": "ALTER TABLE u ADD CONSTRAINT u_b CHECK (total > 0) NOT VALID;\n"
                           "-- dualpath:no-transaction\n"
                           "ALTER TABLE u VALIDATE CONSTRAINT u_b;",
    })
    held = work(measurement, "one_transaction.sql:2", "u")
    assert held.lock == "ACCESS EXCLUSIVE" and held.held_before and held.validated == ("u_a",)
    [finding] = [f for f in found["one_transaction"] if f.rule == "DP080"]
    assert finding.line == 2 and "taken by an earlier statement of this transaction" in finding.message

    alone = work(measurement, "own_transaction.sql:3", "u")
    assert alone.lock == "SHARE UPDATE EXCLUSIVE" and alone.validated == ("u_b",)
    assert "DP080" not in rules(found["own_transaction"])


def test_mass_data_changes_are_measured_by_the_rows_they_touch(pg_url: str) -> None:
    measurement, found = measure(pg_url, SCHEMA, {
        "always_true": "UPDATE u SET total = total + 1 WHERE total > 0",
        "one_row": "UPDATE u SET total = 7 WHERE id = 3",
    })
    everything = work(measurement, "always_true.sql:1", "u")
    assert (everything.rows_written, everything.sample_rows) == (10, 10)
    assert any("10 of the 10 sampled rows of u changed" in f.message
               for f in found["always_true"] if f.rule == "DP080")
    few = work(measurement, "one_row.sql:1", "u")
    assert (few.rows_written, few.sample_rows) == (1, 10)
    assert "DP080" not in rules(found["one_row"])  # DP043's size is the live planner's (no schema here)


def test_a_statement_the_shadow_refuses_is_reported_with_the_server_message(pg_url: str) -> None:
    measurement, found = measure(pg_url, SCHEMA + "UPDATE u SET t_id = NULL WHERE id = 2;", {
        "nulls": "ALTER TABLE u ALTER COLUMN t_id SET NOT NULL",
        "exists": "ALTER TABLE t ADD COLUMN n int",
    })
    refused = measurement.observed("nulls.sql:1")
    assert refused is not None and refused.refused and "null values" in refused.refused
    assert any("refused it on a shadow" in f.message for f in found["nulls"] if f.rule == "DP080")
    already = measurement.observed("exists.sql:1")
    assert already is not None and already.refusal == "exists"  # there already: not a finding
    assert "DP080" not in rules(found["exists"])


def test_lint_url_measures_on_a_shadow_and_drops_it(pg_url: str, tmp_path: Path) -> None:
    from tests.integration.measure_support import load

    load(pg_url, SCHEMA)
    sql = write(tmp_path, "a.sql", "ALTER TABLE t ALTER COLUMN v TYPE text;\n"
                                   "ALTER TABLE t ALTER COLUMN n TYPE bigint;\n")
    with_server = lint_paths([sql], dialect="postgresql", url=pg_url)
    alone = lint_paths([sql], dialect="postgresql")
    assert [(f.line, f.rule) for f in with_server if f.rule in ("DP080", "DP009")] == [(2, "DP080")]
    static = {(f.line, f.rule) for f in alone}
    assert (2, "DP009") in static and "DP080" not in {r for _, r in static}  # the guess, without a server
    assert shadows_left(pg_url) == []
