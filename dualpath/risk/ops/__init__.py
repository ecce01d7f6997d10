"""Turn one SQL statement into the operations it performs (``Op``), per dialect family."""

from __future__ import annotations

from dualpath.risk.model import Op
from dualpath.sql.lexemes import SqlSyntaxError as SqlSyntaxError  # its home is where SQL text is read

# what a "transaction" op does to a transaction block; the others (savepoints, ROLLBACK TO) leave it open
TRANSACTION_OPENS = ("begin", "start")
TRANSACTION_ENDS = ("commit", "rollback", "prepare")


def extract_ops(text: str, family: str) -> list[Op]:
    """The operations of one statement; raises SqlSyntaxError when it cannot be read."""
    if family == "postgresql":
        from dualpath.risk.ops.postgres import extract
    else:
        from dualpath.risk.ops.generic import extract
    return extract(text, family)
