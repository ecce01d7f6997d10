"""dualpath's own tables in the target: history of changes and an append-only audit log, the
checkpoints of batches and the journal of statements that commit on their own.

History is a log, not a state table: the state of a version is its latest row. That
keeps every failed attempt and every repair visible to whoever investigates later.

tables: what the tables are and their creation; actor: who writes; write: the rows of a change;
read: what the rows say; rows: the rows as plain data; plain: reading them over the driver alone;
journal: the statement journal.

The names below load their module when first asked for: ``dualpath status`` reads history without
SQLAlchemy (history/plain.py), which importing tables.py here would pull in for every command.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dualpath.history.actor import Actor, git_commit_of, make_actor, now
    from dualpath.history.journal import (
        DONE,
        STARTED,
        JournalRow,
        journal_all,
        journal_forget,
        journal_mark,
        journal_of,
        journal_set_done,
        journal_unmark,
    )
    from dualpath.history.read import attempt_of, audit_facts, audit_rows, latest_rows, read_history
    from dualpath.history.rows import DIRECTIONS, NO_ATTEMPT, AuditFact, HistoryRow
    from dualpath.history.tables import (
        audit_table,
        batch_checkpoint_table,
        ensure_tables,
        foreign_columns,
        history_exists,
        history_table,
        metadata,
        probe_write,
        statement_journal_table,
    )
    from dualpath.history.write import ChangeRecord, audit, change_record, record

_HOMES = {
    "actor": ("Actor", "git_commit_of", "make_actor", "now"),
    "journal": ("DONE", "STARTED", "JournalRow", "journal_all", "journal_forget", "journal_mark", "journal_of",
                "journal_set_done", "journal_unmark"),
    "read": ("attempt_of", "audit_facts", "audit_rows", "latest_rows", "read_history"),
    "rows": ("DIRECTIONS", "NO_ATTEMPT", "AuditFact", "HistoryRow"),
    "tables": ("audit_table", "batch_checkpoint_table", "ensure_tables", "foreign_columns", "history_exists",
               "history_table", "metadata", "probe_write", "statement_journal_table"),
    "write": ("ChangeRecord", "audit", "change_record", "record"),
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [
    "DIRECTIONS", "DONE", "NO_ATTEMPT", "STARTED", "Actor", "AuditFact", "ChangeRecord", "HistoryRow", "JournalRow",
    "attempt_of", "audit", "audit_facts", "audit_rows", "audit_table", "batch_checkpoint_table", "change_record",
    "ensure_tables", "foreign_columns", "git_commit_of", "history_exists", "history_table", "journal_all",
    "journal_forget", "journal_mark", "journal_of", "journal_set_done", "journal_unmark", "latest_rows", "make_actor",
    "metadata", "now", "probe_write", "read_history", "record", "statement_journal_table",
]  # the names of _HOMES: tests/unit/test_quick_status.py holds the two equal


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'dualpath.history' has no attribute '{name}'")
    value = getattr(importlib.import_module(f"dualpath.history.{module}"), name)
    globals()[name] = value  # asked once: later lookups find it without coming here
    return value
