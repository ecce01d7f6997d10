from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


class AlterDomainAddConstraint(OpRule):
    id = "DP031"
    title = "ALTER DOMAIN ... ADD CONSTRAINT"
    severity = "warning"
    engines = ("postgresql",)
    kinds = ("alter_domain_add_constraint",)
    judges_cost = True

    cases = (Case("ALTER DOMAIN unused_code ADD CONSTRAINT short CHECK (length(VALUE) < 10);", True,
                  note="without --url: depends on whether a table uses the domain (with --url, an unused "
                       "domain is not reported)"),)

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        return effect.cost == "scan"

    why = ("Adding a constraint to a domain checks every column of that domain in every table, holding "
           "locks on all of them; NOT VALID only skips the check, and validating later scans them all.")
    alternative = "Use CHECK constraints on the tables (added NOT VALID, then validated) instead of domains."
    fix = "add table CHECK constraints NOT VALID and VALIDATE them, instead of a domain constraint"
    bad = "ALTER DOMAIN positive_amount ADD CONSTRAINT positive CHECK (VALUE > 0);"
    good = "ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total > 0) NOT VALID;"

    def message(self, ctx: Context, effect: Effect) -> str:
        name = effect.op.name if effect.op else "domain"
        return f"constraint on domain {name} scans every column of that type, in every table"


RULE = AlterDomainAddConstraint()
