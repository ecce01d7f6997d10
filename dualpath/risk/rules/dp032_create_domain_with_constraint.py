from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule


class CreateDomainWithConstraint(OpRule):
    id = "DP032"
    title = "Domain with a constraint"
    severity = "info"
    engines = ("postgresql",)
    kinds = ("create_domain",)
    why = ("Constraints on domains cannot be changed safely later: every change re-checks all columns of "
           "the domain in every table under lock.")
    alternative = "Create the domain without constraints and put CHECK constraints on the tables."
    fix = "create the domain without CHECK and constrain the table columns instead"
    bad = "CREATE DOMAIN positive_amount AS numeric CHECK (VALUE > 0);"
    good = "CREATE DOMAIN amount AS numeric;"

    cases = (
        Case("CREATE DOMAIN public.email AS text CONSTRAINT email_has_at CHECK (VALUE LIKE '%@%');", True,
             note="a named CHECK, schema-qualified"),
        Case("CREATE DOMAIN code AS text NOT NULL;", True,
             note="NOT NULL is a domain constraint too: changing it later re-checks every column"),
        Case("CREATE DOMAIN amount AS numeric(12, 2) DEFAULT 0;", False, note="a DEFAULT is not a constraint"),
    )

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        return effect.op is not None and bool(effect.op.get("has_constraint"))

    def message(self, ctx: Context, effect: Effect) -> str:
        name = effect.op.name if effect.op else "domain"
        return f"domain {name} has a constraint; changing it later locks every table using it"


RULE = CreateDomainWithConstraint()
