"""What to do next after a server refused or failed a statement: one place, so each hint fits its case.

A hint depends on the direction (a failed rollback is not fixed by applying again), on what the
server said (the engine maps its codes to a kind: read-only, permission, timeout, ...) and on what
is left behind (nothing, committed statements, a batch checkpoint).
"""

from __future__ import annotations

READ_ONLY = ("the target accepts no writes for this connection: connect to the primary (not a replica or "
             "standby) and lift read-only for dualpath's session (PostgreSQL: default_transaction_read_only, "
             "also from the URL's ?options=; MySQL/MariaDB: read_only, a read-only transaction)")
PERMISSION = ("connect as a user allowed to change the schema and write dualpath's tables (dualpath_history, "
              "dualpath_audit), or grant this user those privileges")
HISTORY_MISSING = ("if this database was migrated before, its history is missing: if another tool migrated "
                   "it, `dualpath adopt` takes over that tool's history; if dualpath_history rows were "
                   "deleted or the table dropped, `dualpath repair` restores them from dualpath_audit, or "
                   "restore dualpath_history from a backup")


def run_again(direction: str) -> str:
    """The command that continues: apply forward, the same rollback backward."""
    return "`dualpath apply`" if direction == "up" else "the same `dualpath rollback` (same --to/--steps)"


def failure_hint(kind: str | None, direction: str, where: str, *, statement_timeout_ms: int,
                 then: str | None = None) -> str:
    """The `next:` line of a change that failed at ``where`` in ``direction`` with a server error of ``kind``;
    ``then`` is how to go on once the cause is fixed (default: run the same command again)."""
    go_on = then or f"run {run_again(direction)} again"
    side = "forward" if direction == "up" else "rollback"
    if kind == "statement_timeout":
        return (f"the statement ran longer than the statement timeout ({statement_timeout_ms} ms): raise "
                f"[safety] statement_timeout_ms for this target, or batch it (-- dualpath:batch); then {go_on}")
    if kind == "canceled":
        return f"someone canceled the statement (a cancel request or KILL QUERY): ask why, then {go_on}"
    if kind == "read_only":
        return f"{READ_ONLY}; then {go_on}"
    if kind == "permission":
        return f"{PERMISSION}; then {go_on}"
    if kind == "connection":
        return f"when the server is reachable again, {go_on}"
    if kind == "duplicate_object" and direction == "up":
        return (f"what {where} creates exists already, yet dualpath_history does not record this change as "
                f"applied; {HISTORY_MISSING}; if not, fix the statement, then {go_on}")
    if direction == "down":
        return (f"fix the {side} statement at {where} (or the data it trips on); the change stays applied "
                f"until its rollback succeeds; then {go_on}")
    return f"fix the statement at {where} (or the data it trips on), then {go_on}"


def refusal_hint(kind: str) -> str:
    """The `next:` line of a server error caught at the CLI edge, outside any change (reading history,
    taking the run lock, ...): nothing of a change ran, so the command is simply run again."""
    again = "then run the command again"
    return {
        "permission": "grant this user the privilege named above (or run as a user who has it), " + again,
        "statement_timeout": ("a statement timeout set for this session (the URL's options, or the user's or "
                              "database's settings) canceled dualpath's own query: remove it (dualpath sets its "
                              "own from [safety] statement_timeout_ms), " + again),
        "canceled": "someone canceled dualpath's query (a cancel request or KILL QUERY): ask why, " + again,
        "read_only": f"{READ_ONLY}; {again}",
        "auth": "check the user name and password in the URL (or the secret it names), " + again,
        "lock_timeout": "another session held a lock dualpath needed: wait for it to finish, " + again,
        "deadlock": "the server broke a deadlock by canceling dualpath's query: " + again,
        "connection": "the connection to the server was lost: when it is reachable again, " + again,
    }.get(kind, again)
