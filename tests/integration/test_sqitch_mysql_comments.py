"""sqitch runs MySQL scripts with the mysql client, which leaves comments out of what it sends: a routine's
stored body has none. dualpath sends such a folder as the client does (opinion-sqitch-mysql: 103 changes
applied by both, yet eight procedure bodies differed by their `# not deleted` comments)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from dualpath.urls import parse_url
from tests.integration.dbs import server_database
from tests.integration.helpers import run_cli, write_config
from tests.unit.test_sources import write

DEPLOY = """\
DROP PROCEDURE IF EXISTS p;
DELIMITER $$
CREATE PROCEDURE p(IN a INT)
BEGIN
  SELECT 1 # not deleted
  , 2 -- a dash comment
  , 3 /* a block */ , 4 /*! , 5 */, '# kept', "-- kept" FROM DUAL WHERE a > 0;
END$$
DELIMITER ;
"""


def _body(url: str) -> str:
    with sa.create_engine(parse_url(url)).connect() as conn:
        return str(conn.execute(sa.text("SELECT ROUTINE_DEFINITION FROM information_schema.ROUTINES "
                                        "WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_NAME = 'p'")).scalar())


@pytest.mark.skipif(shutil.which("mariadb") is None, reason="the mariadb client is what this compares with")
def test_a_routine_body_is_stored_as_the_mysql_client_sends_it(mysql_url: str, tmp_path: Path) -> None:
    folder = write(tmp_path / "project", {
        "sqitch.conf": "[core]\n\tengine = mysql\n",
        "sqitch.plan": "%project=p\n\np 2024-01-01T00:00:00Z Me <me@x.org> # p\n",
        "deploy/p.sql": DEPLOY, "revert/p.sql": "DROP PROCEDURE p;\n"})
    config = write_config(tmp_path, mysql_url)
    applied = run_cli("apply", "--config", str(config), "--url", "db", "--migrations", str(folder))
    assert applied.exit_code == 0, applied.output
    with server_database("mysql", "client_side") as other:
        url = parse_url(other)
        subprocess.run(["mariadb", "-h", str(url.host), "-P", str(url.port or 3306), "-u", str(url.username),
                        str(url.database)], input=DEPLOY, text=True, check=True)
        assert _body(mysql_url) == _body(other)
    assert "not deleted" not in _body(mysql_url) and "'# kept'" in _body(mysql_url)
