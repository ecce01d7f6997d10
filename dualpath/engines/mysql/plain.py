"""MySQL and MariaDB over PyMySQL alone (engines/plain.py): the connection the Engine would open, for reading."""

from __future__ import annotations

from typing import Any

from dualpath.engines.plain import CONNECT_TIMEOUT_S, PlainUrl

DIALECT = "mysql"
TABLES_SQL = ("SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() "
              "AND table_name IN ({names})")


def connect(url: PlainUrl) -> Any:
    import pymysql

    if url.query or not url.database:
        raise ValueError("not plain: SQLAlchemy's dialect translates query parameters for PyMySQL")
    # the password as UTF-8 bytes, as MySQLEngine.make_sa_engine sends it
    return pymysql.connect(host=url.host or "localhost", port=url.port or 3306, user=url.user or "",
                           password=(url.password or "").encode("utf-8"), database=url.database,
                           charset="utf8mb4", connect_timeout=CONNECT_TIMEOUT_S, autocommit=True)
