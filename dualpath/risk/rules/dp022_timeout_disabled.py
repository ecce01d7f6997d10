import re

from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule

_AMOUNT = re.compile(r"^\s*'?(\d+(?:\.\d+)?)\s*(ms|s|min|h|d)?'?\s*$", re.I)
_MS = {"ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
# PostgreSQL counts in ms, MySQL/SQLite timeouts in seconds (busy_timeout: ms)
_UNIT = {"lock_timeout": "ms", "statement_timeout": "ms", "idle_in_transaction_session_timeout": "ms",
         "busy_timeout": "ms", "max_execution_time": "ms"}
LIMIT_MS = 5 * 60_000


def timeout_ms(name: str, value: str | None) -> float | None:
    match = _AMOUNT.match(value or "")
    if not match:
        return None
    unit = (match.group(2) or _UNIT.get(name, "s")).lower()
    return float(match.group(1)) * _MS[unit]


class TimeoutDisabled(OpRule):
    id = "DP022"
    title = "Lock or statement timeout disabled or very long"
    severity = "warning"
    kinds = ("set_timeout",)
    why = ("dualpath runs every statement under a lock timeout so a blocked ALTER gives up instead of "
           "queueing every other query behind it. Setting the timeout to 0 (no limit) or to many "
           "minutes removes that protection.")
    alternative = "Leave the timeouts to dualpath's configuration, or set a short one (a few seconds)."
    fix = "remove the SET, or use a short value such as SET lock_timeout = '5s'"
    bad = "SET lock_timeout = 0;"
    good = "SET lock_timeout = '5s';"

    cases = (
        Case("SET statement_timeout = '1h';", True, note="an hour is far above the limit"),
        Case("SET LOCAL lock_timeout TO 0;", True, note="SET LOCAL ... TO 0 disables it as well"),
        Case("SET lock_timeout = 5000;", False, note="a bare number is milliseconds on PostgreSQL: 5 s"),
        Case("SET SESSION lock_wait_timeout = 31536000;", True, dialect="mysql",
             note="mysql: lock_wait_timeout counts seconds; a year is MySQL's default"),
        Case("SET SESSION lock_wait_timeout = 5;", False, dialect="mysql", note="mysql: 5 seconds"),
        Case("SELECT set_config('lock_timeout', '0', false);", True, note="set_config() is a SET in disguise"),
        Case("PRAGMA busy_timeout = 0;", False, dialect="sqlite",
             note="sqlite: 0 turns the busy handler off, a locked database fails at once: nothing waits"),
        Case("PRAGMA busy_timeout = 600000;", True, dialect="sqlite", note="sqlite: ten minutes of waiting"),
    )

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        ms = timeout_ms(effect.op.name or "", effect.op.get("value")) if effect.op else None
        # SQLite's busy_timeout = 0 turns the busy handler off: a locked database fails at once, nothing waits
        disabled = ms == 0 and effect.op is not None and effect.op.name != "busy_timeout"
        return ms is not None and (disabled or ms > LIMIT_MS)

    def message(self, ctx: Context, effect: Effect) -> str:
        op = effect.op
        name, value = (op.name, op.get("value")) if op else ("timeout", "?")
        return f"{name} = {value} lets a blocked statement queue every other query behind it"


RULE = TimeoutDisabled()
