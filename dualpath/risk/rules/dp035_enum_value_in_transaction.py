from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


class EnumValueInTransaction(OpRule):
    id = "DP035"
    title = "ALTER TYPE ... ADD VALUE inside a transaction before PostgreSQL 12"
    severity = "error"
    engines = ("postgresql",)
    kinds = ("alter_enum_add_value",)
    example_version = (11,)
    why = "Before PostgreSQL 12, ALTER TYPE ... ADD VALUE cannot run inside a transaction block: it fails."
    alternative = "Put it in a change of its own marked `-- dualpath:no-transaction`, or upgrade to 12+."
    fix = "move ALTER TYPE ... ADD VALUE into its own change marked -- dualpath:no-transaction"
    bad = "ALTER TYPE order_state ADD VALUE 'refunded';"
    good = "-- dualpath:no-transaction\nALTER TYPE order_state ADD VALUE 'refunded';"

    cases = (
        Case("ALTER TYPE public.order_state ADD VALUE IF NOT EXISTS 'refunded' BEFORE 'closed';", True,
             note="IF NOT EXISTS and BEFORE do not make it transactional on 11"),
        Case("ALTER TYPE order_state ADD VALUE 'refunded';", False, version=(12,),
             note="PostgreSQL 12+ allows it in a transaction (the new value is usable after COMMIT)"),
        Case("ALTER TYPE order_state RENAME VALUE 'shipped' TO 'dispatched';", False,
             note="RENAME VALUE runs in a transaction (DP064 is about it)"),
    )

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        transactional = ctx.change.directive("no-transaction") is None
        return transactional and not ctx.catalogue.supports("enum_add_value_in_transaction")

    def message(self, ctx: Context, effect: Effect) -> str:
        version = ".".join(map(str, ctx.catalogue.version))
        return f"ADD VALUE to enum {effect.op.name if effect.op else ''} fails inside a transaction on {version}"


RULE = EnumValueInTransaction()
