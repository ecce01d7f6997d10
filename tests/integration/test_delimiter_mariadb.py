"""MySQL DELIMITER files apply and roll back with dualpath exactly as the `mariadb` client runs them.

The client sends a DELIMITER chunk whole, with multi-statements on, and the server runs it statement by
statement; dualpath cuts the same chunk into those statements and sends them one by one. Both land on
the same schema (routine and trigger bodies included) and the same rows, forward and back.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from dualpath.engines import open_engine
from dualpath.engines.base import Fingerprint
from dualpath.engines.verbatim import run_verbatim
from tests.integration.dbs import server_database
from tests.integration.helpers import fingerprint, run_cli, write_config

pytestmark = pytest.mark.integration

CLIENT = shutil.which("mariadb") or shutil.which("mysql")

# golang-migrate layout: what real MySQL folders hold in DELIMITER sections
FILES = {
    "1_orders.up.sql": """\
CREATE TABLE orders (id INT PRIMARY KEY, total INT, label VARCHAR(40));
CREATE TABLE log (msg VARCHAR(100));
DELIMITER //
DROP PROCEDURE IF EXISTS add_order;
CREATE PROCEDURE add_order(IN n INT)
BEGIN
  -- a comment with ; and // and DELIMITER ;
  IF n > 0 THEN
    INSERT INTO orders VALUES (n, n * 10, 'x;y//DELIMITER ;');
  END IF;
  INSERT INTO log VALUES ("added; //");
END;
CALL add_order(1); CALL add_order(2) //
DELIMITER ;
""",
    "1_orders.down.sql": """\
DELIMITER //
DROP PROCEDURE IF EXISTS add_order; DROP TABLE log; DROP TABLE orders //
DELIMITER ;
""",
    "2_trigger.up.sql": """\
DELIMITER $$
DROP TRIGGER IF EXISTS orders_bi$$
CREATE TRIGGER orders_bi BEFORE INSERT ON orders FOR EACH ROW
BEGIN
  IF NEW.total < 0 THEN
    SET NEW.total = 0;
  ELSEIF NEW.total > 100 THEN
    SET NEW.label = CASE WHEN NEW.total > 1000 THEN 'huge' ELSE 'big' END;
  END IF;
END$$
CREATE FUNCTION label_of(t INT) RETURNS VARCHAR(20) DETERMINISTIC
  IF t > 100 THEN RETURN 'big'; ELSE RETURN 'small'; END IF;
INSERT INTO orders (id, total) VALUES (3, -5), (4, 500)$$
DELIMITER ;
""",
    "2_trigger.down.sql": """\
DELIMITER $$
DROP FUNCTION label_of;
DELETE FROM orders WHERE id IN (3, 4);
DROP TRIGGER orders_bi$$
DELIMITER ;
""",
    "3_loop.up.sql": """\
DELIMITER ;;
CREATE PROCEDURE fill(IN n INT) lbl: LOOP
  IF n <= 0 THEN LEAVE lbl; END IF;
  INSERT INTO log VALUES (CONCAT('fill ', n));
  SET n = n - 1;
END LOOP lbl;
CALL fill(3);;
DELIMITER ;
""",
    "3_loop.down.sql": "DROP PROCEDURE fill;\nDELETE FROM log WHERE msg LIKE 'fill%';\n",
    # bodies without BEGIN, a column called `end`, a handler block, MariaDB's anonymous block, an event
    "4_compound.up.sql": """\
ALTER TABLE orders ADD COLUMN `end` INT;
DELIMITER //
CREATE PROCEDURE w() WHILE @n < 2 DO SET @n = @n + 1; INSERT INTO log VALUES (CONCAT('w', @n)); END WHILE;
SET @n = 0; CALL w();
CREATE PROCEDURE f() FOR i IN 1..2 DO INSERT INTO log VALUES (CONCAT('f', i)); END FOR; CALL f();
CREATE PROCEDURE c() CASE @n WHEN 2 THEN INSERT INTO log VALUES ('c2'); ELSE INSERT INTO log VALUES ('c?'); END CASE;
CALL c();
CREATE PROCEDURE e() BEGIN SELECT end FROM orders; IF 1 THEN SELECT id, end FROM orders; END IF;
  INSERT INTO log VALUES ('e'); END; CALL e();
CREATE PROCEDURE h() BEGIN DECLARE CONTINUE HANDLER FOR SQLEXCEPTION BEGIN INSERT INTO log VALUES ('h'); END;
  INSERT INTO no_such_table VALUES (1); END; CALL h();
BEGIN NOT ATOMIC INSERT INTO log VALUES ('a1'); INSERT INTO log VALUES ('a2'); END;
CREATE EVENT ev ON SCHEDULE EVERY 1 DAY DISABLE DO IF 1 THEN DELETE FROM log WHERE msg = 'x'; END IF //
DELIMITER ;
""",
    "4_compound.down.sql": """\
DELIMITER //
DROP EVENT ev; DROP PROCEDURE h; DROP PROCEDURE e; DROP PROCEDURE c; DROP PROCEDURE f; DROP PROCEDURE w;
DELETE FROM log WHERE msg IN ('w1', 'w2', 'f1', 'f2', 'c2', 'e', 'h', 'a1', 'a2');
ALTER TABLE orders DROP COLUMN `end` //
DELIMITER ;
""",
}
UPS = ["1_orders.up.sql", "2_trigger.up.sql", "3_loop.up.sql", "4_compound.up.sql"]


def client_runs(url: str, path: Path) -> None:
    """`mariadb --comments < file`, as a team runs it by hand. Without --comments the client strips
    comments from what it sends, routine bodies included; dualpath sends the text as written."""
    parts = make_url(url)
    assert CLIENT is not None
    with path.open("rb") as script:
        done = subprocess.run([CLIENT, "--comments", "-h", parts.host or "127.0.0.1", "-P", str(parts.port or 3306),
                               "-u", parts.username or "root", parts.database or ""],
                              stdin=script, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{path.name}: {done.stderr}"


def rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = open_engine(url)
    found = {}
    with engine.connect() as conn:
        for table in ("orders", "log"):
            exists = run_verbatim(conn, f"SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
                                        f"DATABASE() AND TABLE_NAME = '{table}'").scalar()
            if exists:
                found[table] = sorted(tuple(r) for r in run_verbatim(conn, f"SELECT * FROM {table}").all())
        conn.rollback()
    return found


@pytest.mark.skipif(CLIENT is None, reason="the mariadb (or mysql) command-line client is not installed")
def test_delimiter_folder_applies_and_rolls_back_as_the_client_does(mysql_url: str, tmp_path: Path,
                                                                     request: pytest.FixtureRequest) -> None:
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    for name, text in FILES.items():
        (migrations / name).write_text(text)
    config = write_config(tmp_path, mysql_url)
    base = ["--config", str(config), "--url", "db", "--migrations", str(migrations)]
    with server_database("mysql", request.node.name + "_client") as client_url:
        applied = run_cli("apply", *base)
        assert applied.exit_code == 0, applied.output
        for name in UPS:
            client_runs(client_url, migrations / name)
        assert rows(mysql_url) == rows(client_url)
        assert rows(mysql_url)["log"] == sorted((msg,) for msg in (
            "added; //", "added; //", "fill 1", "fill 2", "fill 3", "w1", "w2", "f1", "f2", "c2", "e", "h", "a1", "a2"))
        ours, theirs = fingerprint(mysql_url), fingerprint(client_url)
        assert not ours.diff(theirs), ours.diff(theirs)
        assert {name.split("(")[0] for name in ours.names("function")} == {"add_order", "label_of", "fill", "w", "f",
                                                                           "c", "e", "h"}
        assert ours.names("trigger") == ["orders.orders_bi"]

        back = run_cli("rollback", *base, "--all")
        assert back.exit_code == 0, back.output
        for name in reversed(UPS):
            client_runs(client_url, migrations / name.replace(".up.", ".down."))
        assert rows(mysql_url) == rows(client_url) == {}
        assert fingerprint(mysql_url) == fingerprint(client_url) == Fingerprint()
