from collections.abc import Iterable

from dualpath.risk.context import Context, Item
from dualpath.risk.model import Finding
from dualpath.risk.ops import TRANSACTION_ENDS, TRANSACTION_OPENS
from dualpath.risk.rule import Case, Rule


class ConcurrentlyInTransaction(Rule):
    id = "DP017"
    title = "CONCURRENTLY (or VACUUM) mixed into a transactional change"
    severity = "error"
    engines = ("postgresql",)
    why = ("CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY, DETACH PARTITION CONCURRENTLY and VACUUM "
           "cannot run inside a transaction block. Inside BEGIN ... COMMIT they fail; next to other "
           "statements they force the whole change to run without a transaction, so a failure halfway "
           "leaves it half applied.")
    alternative = ("Put each concurrent statement in a change of its own, marked "
                   "`-- dualpath:no-transaction`.")
    fix = "move the statement into its own change marked -- dualpath:no-transaction"
    bad = ("ALTER TABLE orders ADD COLUMN note text;\n"
           "CREATE INDEX CONCURRENTLY orders_note_idx ON orders (note);")
    good = "-- dualpath:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS orders_note_idx ON orders (note);"

    cases = (
        Case("-- dualpath:no-transaction\nBEGIN;\n"
             "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_note_idx ON orders (note);\nCOMMIT;", True,
             note="an explicit BEGIN ... COMMIT around it fails even in a no-transaction change"),
        Case("ALTER TABLE orders ADD COLUMN note text;\nDROP INDEX CONCURRENTLY IF EXISTS orders_old_idx;", True,
             note="DROP INDEX CONCURRENTLY next to other statements"),
        Case("ALTER TABLE measurements DETACH PARTITION m2020 CONCURRENTLY;\nDROP TABLE m2020;", True,
             note="DETACH PARTITION CONCURRENTLY next to other statements"),
        Case("ALTER TABLE orders DROP COLUMN legacy_code;\nVACUUM (ANALYZE) orders;", True,
             note="VACUUM cannot run in a transaction either: next to other statements it drops the transaction"),
        Case("ALTER TABLE orders DROP COLUMN legacy_code;\nANALYZE orders;", False,
             note="ANALYZE alone may run inside a transaction"),
        Case("CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_note_idx ON orders (note);", False,
             note="alone in its change without the marker: dualpath runs it outside a transaction by itself"),
        Case("CREATE UNIQUE INDEX IF NOT EXISTS sales_summary_day ON sales_summary (day);\n"
             "REFRESH MATERIALIZED VIEW CONCURRENTLY sales_summary;", False,
             note="REFRESH ... CONCURRENTLY may run inside a transaction"),
    )

    def check(self, ctx: Context) -> Iterable[Finding]:
        for part in (ctx.forward, ctx.rollback):
            in_block = False
            for item in part:
                for op in item.ops:
                    if op.kind == "transaction" and op.name in TRANSACTION_OPENS + TRANSACTION_ENDS:
                        in_block = op.name in TRANSACTION_OPENS
                what = refuses_transaction(item)
                if not what:
                    continue
                if in_block:
                    yield ctx.finding(self, item, f"{what} inside BEGIN ... COMMIT: PostgreSQL refuses it")
                elif len(part) > 1 and ctx.change.directive("no-transaction") is None:
                    yield ctx.finding(self, item, f"{what} next to other statements: the whole change "
                                      "then runs without a transaction and can stop half applied")


def refuses_transaction(item: Item) -> str:
    """CONCURRENTLY or VACUUM when the statement cannot run in a transaction block ("" when it can)."""
    for op in item.ops:
        if op.variant == "concurrent" and op.kind != "refresh_matview":  # REFRESH ... CONCURRENTLY can
            return "CONCURRENTLY"
        if op.kind in ("vacuum", "vacuum_full"):
            return "VACUUM"
    return ""


RULE = ConcurrentlyInTransaction()
