from dualpath.risk.context import Context, Item
from dualpath.risk.model import Effect
from dualpath.risk.rule import Case, OpRule, describe


class AttachPartitionScan(OpRule):
    id = "DP060"
    title = "ATTACH PARTITION scans the partition"
    severity = "warning"
    engines = ("postgresql",)
    kinds = ("attach_partition",)
    judges_cost = True
    why = ("ATTACH PARTITION checks every row of the new partition against the bound, under ACCESS "
           "EXCLUSIVE on the partition (and, before PostgreSQL 12, on the parent too): reads and writes "
           "of the partition wait for the whole scan. A validated CHECK on the partition that implies the "
           "bound (and NOT NULL on the key) lets PostgreSQL skip the scan; with --url dualpath looks for one.")
    alternative = ("First add a CHECK constraint matching the bound NOT VALID and VALIDATE it; ATTACH then "
                   "skips the scan. Drop the CHECK afterwards.")
    fix = "add and validate a CHECK matching the partition bound before ATTACH PARTITION"
    bad = "ALTER TABLE measurements ATTACH PARTITION m2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');"
    good = ("ALTER TABLE m2024 ADD CONSTRAINT m2024_bound CHECK (ts >= '2024-01-01' AND ts < '2025-01-01') "
            "NOT VALID;")

    cases = (
        Case("ALTER TABLE public.measurements ATTACH PARTITION public.m_default DEFAULT;", True,
             note="a DEFAULT partition is scanned too"),
        Case("CREATE TABLE m2024 (LIKE measurements);\n"
             "ALTER TABLE measurements ATTACH PARTITION m2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');", False,
             note="a partition created in the same change is empty"),
        Case("CREATE TABLE m2025 PARTITION OF measurements FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');", False,
             note="PARTITION OF makes a new empty partition: nothing to scan"),
    )

    def applies(self, ctx: Context, item: Item, effect: Effect) -> bool:
        # a partition created earlier in the change is empty: nothing to scan
        return effect.cost == "scan" and not (effect.op is not None and item.is_new(effect.op.name))

    def message(self, ctx: Context, effect: Effect) -> str:
        part = effect.op.name if effect.op else "the partition"
        return f"ATTACH PARTITION {part} {describe(effect)}"


RULE = AttachPartitionScan()
