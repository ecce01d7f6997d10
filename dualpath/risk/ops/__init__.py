"""Turn one SQL statement into the operations it performs (``Op``), per dialect family."""

from __future__ import annotations

from dualpath.risk.model import Op

# what a "transaction" op does to a transaction block; the others (savepoints, ROLLBACK TO) leave it open
TRANSACTION_OPENS = ("begin", "start")
TRANSACTION_ENDS = ("commit", "rollback", "prepare")


class SqlSyntaxError(Exception):
    """The statement does not parse; ``offset`` is the character offset the parser names."""

    def __init__(self, message: str, offset: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def extract_ops(text: str, family: str) -> list[Op]:
    """The operations of one statement; raises SqlSyntaxError when it cannot be read."""
    if family == "postgresql":
        from dualpath.risk.ops.postgres import extract
    else:
        from dualpath.risk.ops.generic import extract
    return extract(text, family)
