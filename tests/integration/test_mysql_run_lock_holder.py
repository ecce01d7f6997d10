"""MySQL/MariaDB: a run refused between its rival's GET_LOCK and the rival's holder row names the rival
once the row is there (it waits a moment for it), instead of "run unknown"."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from dualpath.engines import open_engine
from dualpath.engines.mysql.run_lock import LOCK_TABLE

pytestmark = pytest.mark.integration


def test_a_refusal_waits_for_the_holders_row(mysql_url: str) -> None:
    engine = open_engine(mysql_url)
    holder_engine = engine.make_sa_engine()
    with holder_engine.connect() as holder:
        holder = holder.execution_options(isolation_level="AUTOCOMMIT")
        assert holder.execute(text("SELECT GET_LOCK(:n, 0)"), {"n": engine.lock_name}).scalar() == 1
        found: list[object] = []
        with engine.connect() as conn:  # the refused run's look, begun before the row exists
            looking = threading.Thread(target=lambda: found.append(engine.holder_on(conn, wait_s=60)))
            looking.start()
            engine.record_holder(holder, "run-4b7c", "ci.example")  # the holder's next round trip
            looking.join(timeout=90)
        holder.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": engine.lock_name})
        holder.exec_driver_sql(f"DROP TABLE IF EXISTS {LOCK_TABLE}")
    holder_engine.dispose()
    assert found and getattr(found[0], "run_id", None) == "run-4b7c", found
