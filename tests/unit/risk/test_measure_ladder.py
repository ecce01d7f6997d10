"""The MySQL/MariaDB ALGORITHM/LOCK ladder: which pairs a statement is tried with, cheapest first."""

from __future__ import annotations

from dualpath.risk.measure.mysql import ladder


def pairs(sql: str) -> list[tuple[str | None, str | None]]:
    return [(a.algorithm, a.lock) for a in ladder(sql)]


def test_an_alter_that_states_nothing_tries_every_pair_cheapest_first() -> None:
    found = pairs("ALTER TABLE t ADD COLUMN c int;")
    assert found[:3] == [("INSTANT", None), ("NOCOPY", "NONE"), ("NOCOPY", "SHARED")]
    assert found[-2:] == [("COPY", "EXCLUSIVE"), (None, None)]  # the statement as written comes last
    assert ladder("ALTER TABLE t ADD COLUMN c int;")[0].sql == "ALTER TABLE t ADD COLUMN c int\n, ALGORITHM=INSTANT"


def test_stated_clauses_are_kept_and_only_the_rest_is_tried() -> None:
    assert pairs("ALTER TABLE t ADD COLUMN c int, ALGORITHM=INPLACE") == [
        (None, "NONE"), (None, "SHARED"), (None, "EXCLUSIVE"), (None, None)]
    assert pairs("ALTER ONLINE TABLE t ADD COLUMN c int")[1] == ("NOCOPY", None)  # ONLINE is LOCK=NONE
    assert pairs("ALTER TABLE t ADD COLUMN c int, ALGORITHM=COPY, LOCK=EXCLUSIVE") == [(None, None)]
    assert pairs("ALTER TABLE t ADD COLUMN lock_level int")[1] == ("NOCOPY", "NONE")  # a column is no clause
    assert pairs("ALTER TABLE t ADD COLUMN c int, LOCK=DEFAULT")[1] == ("NOCOPY", "NONE")  # DEFAULT: the server's


def test_index_statements_take_clauses_without_a_comma_and_comments_stay_comments() -> None:
    [first, *_] = ladder("-- why\nCREATE INDEX i ON t (c) -- note")
    assert first.sql == "-- why\nCREATE INDEX i ON t (c) -- note\n ALGORITHM=INSTANT"
    assert ladder("DROP INDEX i ON t")[1].sql.endswith("ALGORITHM=NOCOPY LOCK=NONE")


def test_other_statements_run_as_written() -> None:
    assert pairs("UPDATE t SET c = 1") == [(None, None)]
    assert pairs("OPTIMIZE TABLE t") == [(None, None)]
