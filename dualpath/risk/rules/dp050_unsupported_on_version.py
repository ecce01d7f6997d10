from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


class UnsupportedOnVersion(OpRule):
    id = "DP050"
    title = "Statement not supported by this server version"
    severity = "error"
    engines = ("postgresql", "mysql")
    example_version = (11,)
    why = ("The statement uses a form the target version does not have (e.g. REINDEX CONCURRENTLY "
           "before PostgreSQL 12, DETACH PARTITION CONCURRENTLY before 14): it fails on deploy.")
    alternative = "Use the older equivalent named in the message, or raise --engine-version if the target is newer."
    fix = "use the form this version supports, or check --engine-version"
    bad = "-- dualpath:no-transaction\nREINDEX INDEX CONCURRENTLY orders_customer_idx;"
    good = ("-- dualpath:no-transaction\n"
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_idx2 ON orders (customer_id);")

    cases = (
        Case("-- dualpath:no-transaction\nALTER TABLE measurements DETACH PARTITION m2020 CONCURRENTLY;", True,
             note="DETACH ... CONCURRENTLY needs 14"),
        Case("-- dualpath:no-transaction\nREINDEX INDEX CONCURRENTLY orders_customer_idx;", False, version=(12,),
             note="REINDEX CONCURRENTLY exists from 12"),
        Case("ALTER TABLE orders ADD COLUMN note TEXT, ALGORITHM=INSTANT;", False, dialect="mariadb", version=(10, 11),
             note="mariadb 10.3+ has ALGORITHM=INSTANT"),
    )

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        return effect.cost == "unsupported"

    def message(self, ctx: Context, effect: Effect) -> str:
        version = ".".join(map(str, ctx.catalogue.version))
        return f"not available on {ctx.catalogue.dialect} {version}: {effect.notes}"


RULE = UnsupportedOnVersion()
