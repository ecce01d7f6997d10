"""Pure parts of the shadow measurement: the MySQL/MariaDB ALGORITHM/LOCK ladder, and what may run on a shadow."""

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


def test_statements_that_reach_past_the_shadow_are_told_apart_from_their_look_alikes() -> None:
    from dualpath.changes import Statement
    from dualpath.risk.catalogue import catalogue_for
    from dualpath.risk.context import read_part
    from dualpath.risk.measure.beyond import beyond_the_shadow

    def beyond(sql: str, dialect: str) -> str | None:
        family = "mysql" if dialect == "mariadb" else dialect
        [item] = read_part([Statement(sql, "a.sql", 1)], "forward", family, catalogue_for(dialect))
        return beyond_the_shadow(item, family)

    for sql in ("USE shop", "ALTER TABLE shop.orders ADD c int", "CREATE SCHEMA x", "GRANT SELECT ON t TO u",
                "KILL 12", "SELECT * FROM t INTO OUTFILE '/tmp/x'"):
        assert beyond(sql, "mariadb"), sql
    for sql in ("CREATE ROLE r", "DROP DATABASE shop", "COPY t FROM PROGRAM 'id'", "SELECT pg_terminate_backend(1)",
                "-- first\nALTER SYSTEM SET work_mem = '1MB'"):
        assert beyond(sql, "postgresql"), sql
    for sql in ("CREATE TABLE program (id int)", "ALTER TABLE t ADD COLUMN kill_count int", "CREATE SCHEMA x",
                "GRANT SELECT ON t TO app", "ALTER TABLE public.t ADD c int", "SET ROLE app"):
        assert beyond(sql, "postgresql") is None, sql
    assert beyond("ALTER TABLE program ADD COLUMN c int", "mariadb") is None
