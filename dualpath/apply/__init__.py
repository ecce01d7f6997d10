"""Apply and roll back changes on one target, under the run lock, timeouts and history.

A change runs in one transaction where the engine can roll DDL back (PostgreSQL, SQLite),
so a failure leaves nothing behind. Elsewhere (MySQL/MariaDB: DDL commits implicitly) each
statement stands alone, and a failure is recorded with exactly what ran and what to run
by hand to undo it. A change holding ``-- dualpath:batch`` statements runs statement by
statement with checkpoints (dualpath/batching), so a failure or a kill resumes on the next run.

The runner (runner.py) is made of parts, one concept each: planning.py (what runs), journal.py (the
statement journal), batches.py (batched changes), retries.py (lock conflicts), records.py (history
rows and failures), dry_run.py; common.py holds what they share.
"""

from dualpath.apply.common import START, RunSummary, StatementUnrecorded, is_transactional_dml
from dualpath.apply.planning import refuse_drift, refuse_partial_failures
from dualpath.apply.runner import Runner
from dualpath.history.actor import new_run_id

__all__ = ["START", "RunSummary", "Runner", "StatementUnrecorded", "is_transactional_dml", "new_run_id",
           "refuse_drift", "refuse_partial_failures"]
