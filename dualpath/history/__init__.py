"""dualpath's own tables in the target: history of changes and an append-only audit log, the
checkpoints of batches and the journal of statements that commit on their own.

History is a log, not a state table: the state of a version is its latest row. That
keeps every failed attempt and every repair visible to whoever investigates later.

tables: what the tables are and their creation; actor: who writes; write: the rows of a change;
read: what the rows say; journal: the statement journal.
"""

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
from dualpath.history.read import (
    DIRECTIONS,
    AuditFact,
    HistoryRow,
    attempt_of,
    audit_facts,
    audit_rows,
    latest_rows,
    read_history,
)
from dualpath.history.tables import (
    NO_ATTEMPT,
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

__all__ = [
    "DIRECTIONS", "DONE", "NO_ATTEMPT", "STARTED", "Actor", "AuditFact", "ChangeRecord", "HistoryRow", "JournalRow",
    "attempt_of", "audit", "audit_facts", "audit_rows", "audit_table", "batch_checkpoint_table", "change_record",
    "ensure_tables", "foreign_columns", "git_commit_of", "history_exists", "history_table", "journal_all",
    "journal_forget", "journal_mark", "journal_of", "journal_set_done", "journal_unmark", "latest_rows", "make_actor",
    "metadata", "now", "probe_write", "read_history", "record", "statement_journal_table",
]
