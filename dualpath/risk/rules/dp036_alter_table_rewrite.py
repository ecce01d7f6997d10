from dualpath.risk.context import Context
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule, describe


class AlterTableRewrite(OpRule):
    id = "DP036"
    title = "ALTER TABLE that rewrites the table (tablespace, logged, access method)"
    severity = "warning"
    engines = ("postgresql",)
    kinds = ("set_tablespace", "set_logged", "set_access_method")
    why = ("SET TABLESPACE, SET LOGGED / UNLOGGED and SET ACCESS METHOD copy the whole table under "
           "ACCESS EXCLUSIVE: nothing reads or writes it until the copy ends.")
    alternative = ("Do it in a maintenance window, or copy into a new table online (logical replication, "
                   "pg_repack) and swap.")
    fix = "run it in a maintenance window, or use pg_repack / a new table and swap"
    bad = "ALTER TABLE orders SET TABLESPACE fast_ssd;"
    good = "CREATE TABLE orders_archive (id bigint PRIMARY KEY) TABLESPACE fast_ssd;"

    cases = (
        Case("ALTER TABLE public.orders SET UNLOGGED;", True, note="SET UNLOGGED copies the table"),
        Case("ALTER TABLE orders SET ACCESS METHOD heap2;", True, note="SET ACCESS METHOD (PostgreSQL 15) rewrites"),
        Case("ALTER INDEX public.orders_pkey SET TABLESPACE fast_ssd;", True,
             note="an index is copied too, under ACCESS EXCLUSIVE: queries planned on orders wait for it"),
        Case("ALTER INDEX orders_pkey SET (fillfactor = 70);", False, note="an index storage parameter: no copy"),
        Case("ALTER TABLE orders SET (fillfactor = 70);", False,
             note="a storage parameter: SHARE UPDATE EXCLUSIVE, no rewrite"),
        Case("CREATE TABLE archive (id bigint PRIMARY KEY);\nALTER TABLE archive SET TABLESPACE cold;", False,
             note="a table created in the same change is empty"),
    )

    def message(self, ctx: Context, effect: Effect) -> str:
        return f"{effect.operation.replace('_', ' ').upper()} {describe(effect)}"


RULE = AlterTableRewrite()
