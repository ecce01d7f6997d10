from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import OpRule


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

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        transactional = ctx.change.directive("no-transaction") is None
        return transactional and not ctx.catalogue.supports("enum_add_value_in_transaction")

    def message(self, ctx: Context, effect: Effect) -> str:
        version = ".".join(map(str, ctx.catalogue.version))
        return f"ADD VALUE to enum {effect.op.name if effect.op else ''} fails inside a transaction on {version}"


RULE = EnumValueInTransaction()
