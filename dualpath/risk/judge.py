"""Pick each operation's catalogue variant from what is known before it runs.

Two sources: what earlier statements of the same change did (a table or column it created, a
CHECK it validated, a session setting), and, with ``--url``, the server's current schema. When
the answer depends on the schema and no server was given, the operation says so in
``attrs["depends"]`` and keeps the conservative variant; rules pass that on to their findings.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from dualpath.risk.model import Op
from dualpath.risk.names import same_name
from dualpath.risk.schema import Column, Schema
from dualpath.risk.typechange import COPY, INDEXES, INPLACE, INSTANT, NONE, REWRITE, my_change, pg_change, pg_type


class Session:
    """What the statements read so far in one part of a change (forward or rollback) established."""

    def __init__(self, family: str, flavor: str, version: tuple[int, ...], schema: Schema | None) -> None:
        self.family, self.flavor, self.version, self.schema = family, flavor, version, schema
        self.new: set[str] = set()  # tables created so far: new and empty
        self.new_columns: dict[tuple[str, str], dict[str, Any]] = {}  # (table, column) added so far → facts
        self.facts: set[tuple[str, ...]] = set()
        self.settings: dict[str, str] = {}

    def is_new_column(self, table: str | None, column: str | None) -> bool:
        return any(same_name(t, table or "") and c == column for t, c in self.new_columns)

    def remember(self, op: Op) -> None:
        if op.kind in ("create_table", "create_table_as") and op.table:
            self.new.add(op.table)
        elif op.kind == "rename_table" and op.table and any(same_name(op.table, t) for t in self.new):
            self.new.add(op.get("new_name", ""))
        elif op.kind == "add_column" and op.table and op.name:
            self.new_columns[(op.table, op.name)] = op.attrs
        elif op.kind == "set" and op.name == "foreign_key_checks":
            self.facts.discard(("fk_checks_off",))
            if str(op.get("value", "")).lower() in ("0", "off", "false"):
                self.facts.add(("fk_checks_off",))
        elif op.kind == "set" and op.name in ("timezone", "time_zone"):
            self.settings["timezone"] = str(op.get("value") or "")
        elif op.kind == "add_constraint" and op.get("not_null_column") and op.table:
            self.facts.add(("not_null_check", op.name or "", op.table, op.get("not_null_column"),
                            str(op.get("not_valid"))))
        elif op.kind == "add_constraint" and op.variant in ("check", "check_not_valid") and op.table:
            self.facts.add(("check", op.name or "", op.table, str(op.get("not_valid"))))
        elif op.kind == "validate_constraint" and op.table:
            for fact in [f for f in self.facts if f[0] in ("not_null_check", "check") and f[1] == op.name]:
                self.facts.add((*fact[:-1], "False"))

    def judge(self, op: Op) -> Op:
        """The operation with the variant that what ran before, and the server's schema, allow."""
        handler = _JUDGES.get((self.family, op.kind))
        return handler(self, op) if handler else op

    # --- PostgreSQL ---------------------------------------------------------------------------

    def _pg_type_change(self, op: Op) -> Op:
        column = self._current_column(op.table, op.name)
        if op.get("using") == "expression":
            return op
        if column is None:
            return _depends(op, f"the current type of {op.table}.{op.name}")
        timezone = self.settings.get("timezone") or (self.schema.settings.get("timezone") if self.schema else None)
        outcome = pg_change(column, pg_type(op.get("type", ""), list(op.get("typmods", []))), op.get("using", ""),
                            timezone, self.version, collate=bool(op.get("collate")))
        if not outcome:
            return _depends(op, "the session's TimeZone (no rewrite in UTC)")
        return replace(op, variant={NONE: "binary", INDEXES: "indexes", REWRITE: ""}[outcome],
                       attrs={**op.attrs, "from_type": column.type})

    def _current_column(self, table: str | None, name: str | None) -> Column | None:
        added = next((facts for (t, c), facts in self.new_columns.items()
                      if same_name(t, table or "") and c == name), None)
        if added is not None:
            mods = added.get("typmods") or []
            spelled = f"{added.get('type', '')}({','.join(map(str, mods))})" if mods else str(added.get("type", ""))
            return Column(table or "", name or "", spelled, nullable=True)
        return self.schema.column(table, name) if self.schema else None

    def _pg_set_not_null(self, op: Op) -> Op:
        if any(f[0] == "not_null_check" and f[4] == "False" and op.table and same_name(f[2], op.table)
               and f[3] == op.name for f in self.facts):
            return replace(op, variant="checked")
        if self.schema is None:
            return _depends(op, f"whether {op.table}.{op.name} has a validated CHECK ({op.name} IS NOT NULL)")
        column = self.schema.column(op.table, op.name)
        if column is not None and not column.nullable:
            return replace(op, variant="noop")
        proof = re.compile(rf'^CHECK \(+"?{re.escape(op.name or "")}"? IS NOT NULL\)+$', re.I)
        if any(c.validated and proof.match(c.expression) for c in self.schema.checks_of(op.table)):
            return replace(op, variant="checked")
        return op

    def _pg_attach(self, op: Op) -> Op:
        partition, parent = (op.name, op.table) if op.kind == "attach_partition" else (op.table, op.get("parent"))
        proven = "proven" if op.kind == "attach_partition" else "attach_proven"
        if any(f[0] == "check" and f[3] == "False" and partition and same_name(f[2], partition) for f in self.facts):
            return replace(op, variant=proven)  # the change validated a CHECK on the partition first
        if self.schema is None:
            return _depends(op, f"whether {partition} has a validated CHECK matching the partition bound")
        bound = op.get("bound") or {}
        if bound and self._bound_proven(partition, parent, bound):
            return replace(op, variant=proven)
        return op

    def _bound_proven(self, partition: str | None, parent: str | None, bound: dict[str, Any]) -> bool:
        assert self.schema is not None
        keys = next((k for t, k in self.schema.partition_keys.items() if parent and same_name(t, parent)), [])
        if len(keys) != 1 or bound.get("strategy") != "r" or len(bound.get("from", ())) != 1:
            return False
        key, low, high = keys[0], bound["from"][0], bound["to"][0]
        column = self.schema.column(partition, key)
        for check in self.schema.checks_of(partition):
            text = check.expression
            lower = re.search(rf"\b{re.escape(key)}\b\s*>=\s*'{re.escape(low)}'", text)
            upper = re.search(rf"\b{re.escape(key)}\b\s*<\s*'{re.escape(high)}'", text)
            not_null = column is not None and not column.nullable or f"{key} IS NOT NULL" in text
            if check.validated and lower and upper and not_null:
                return True
        return False

    def _pg_domain(self, op: Op) -> Op:
        if self.schema is None:
            return _depends(op, f"whether a table uses the domain {op.name}")
        users = next((u for d, u in self.schema.domains.items() if same_name(d, op.name or "")), None)
        return replace(op, variant="unused") if users == [] else op

    def _pg_restart(self, op: Op) -> Op:
        name = op.name
        if op.table is not None:  # ALTER TABLE ... ALTER COLUMN id RESTART: the identity's sequence
            column = self.schema.column(op.table, op.name) if self.schema else None
            name = column.sequence if column else None
        sequence = self.schema.sequence(name) if self.schema else None
        if sequence is None:
            return _depends(op, f"the current value of the sequence behind {op.table + '.' if op.table else ''}"
                                f"{op.name}")
        restart = op.get("restart")
        start = sequence.start if restart is None else int(restart)
        safe = sequence.last is None or start > sequence.last
        return replace(op, variant="ahead" if safe else "behind",
                       attrs={**op.attrs, "last": sequence.last, "start": start})

    # --- MySQL / MariaDB ----------------------------------------------------------------------

    def _my_redefine(self, op: Op) -> Op:
        definition = op.get("definition")
        if not definition:
            return op
        if self.schema is None or self.is_new_column(op.table, op.name):
            return _depends(op, f"the current definition of {op.table}.{op.name}")
        column = self.schema.column(op.table, op.name)
        if column is None:
            return _depends(op, f"the current definition of {op.table}.{op.name}")
        charset = next((c for t, c in self.schema.charsets.items() if same_name(t, op.table or "")), None)
        outcome = my_change(column, definition, charset, self.flavor)
        variant = {INSTANT: "instant", INPLACE: "inplace", COPY: "copy"}[outcome]
        if op.kind == "rename_column" and outcome == INSTANT:
            variant = ""  # a rename and nothing else: the catalogue's rename row
        return replace(op, variant=variant,
                       attrs={**op.attrs, "from_type": column.type, "was_nullable": column.nullable})

    def _my_convert(self, op: Op) -> Op:
        """MariaDB converts utf8mb3 to utf8mb4 without a copy: only the current schema tells."""
        if self.flavor != "mariadb" or str(op.get("charset") or "").lower() != "utf8mb4":
            return op
        if self.schema is None:
            return _depends(op, f"the current character set of {op.table}")
        columns = [c for c in (self.schema.table(op.table) or {}).values() if c.charset]
        charsets = {str(c.charset).lower() for c in columns}
        if not columns or not charsets <= {"utf8mb3", "utf8", "utf8mb4"}:
            return op
        indexed = any(c.indexed and str(c.charset).lower() != "utf8mb4" for c in columns)
        return replace(op, variant="utf8mb3_to_utf8mb4_indexed" if indexed else "utf8mb3_to_utf8mb4")

    def _my_add_column(self, op: Op) -> Op:
        if op.variant in ("auto_increment", "stored_generated", "volatile_default") or op.get("algorithm"):
            return op
        if self.schema is None:
            return _depends(op, f"whether {op.table} has a FULLTEXT index (then the table is rebuilt, writes wait)")
        return replace(op, variant="fulltext_table") if self.schema.has_fulltext(op.table) else op

    def _my_engine(self, op: Op) -> Op:
        engine = str(op.get("engine") or "").lower()
        if not engine:
            return op  # FORCE, ROW_FORMAT=: rebuilt in place
        if self.schema is None:
            if engine == "innodb":
                return _depends(op, f"the current storage engine of {op.table}")
            return replace(op, variant="copy")
        current = next((e for t, e in self.schema.engines.items() if same_name(t, op.table or "")), engine)
        return op if current == engine else replace(op, variant="copy")

    def _fk_checks(self, op: Op) -> Op:
        if op.variant == "foreign" and ("fk_checks_off",) in self.facts:
            return replace(op, variant="foreign_unchecked")
        return op


def _depends(op: Op, what: str) -> Op:
    return replace(op, attrs={**op.attrs, "depends": what})


_JUDGES = {
    ("postgresql", "alter_column_type"): Session._pg_type_change,
    ("postgresql", "set_not_null"): Session._pg_set_not_null,
    ("postgresql", "attach_partition"): Session._pg_attach,
    ("postgresql", "partition_table"): lambda s, op: s._pg_attach(op) if op.variant == "attach" else op,
    ("postgresql", "alter_domain_add_constraint"): Session._pg_domain,
    ("postgresql", "restart_sequence"): Session._pg_restart,
    ("mysql", "alter_column_type"): Session._my_redefine,
    ("mysql", "rename_column"): Session._my_redefine,
    ("mysql", "add_column"): Session._my_add_column,
    ("mysql", "rebuild_table"): Session._my_engine,
    ("mysql", "convert_charset"): Session._my_convert,
    ("mysql", "add_constraint"): Session._fk_checks,
}
