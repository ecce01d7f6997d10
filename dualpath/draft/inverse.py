"""The inverse of one change: from the schema after it back to the schema before it, in a safe order.

What the change created is dropped; what it dropped or altered is made again from the
before-schema. A table or column that vanished while one of the same shape appeared is taken
for a rename and renamed back. Data cannot come back: such drafts carry an irreversible
directive naming what returns empty or cut.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from dualpath.draft.rollback import Draft
from dualpath.draft.shapes import (
    by_name,
    column_shape,
    definition_of,
    find_renames,
    generation_of,
    in_other_schema,
    key_of,
    narrows,
    plain_constraints,
    primary_key_of,
    survives,
    table_shape,
)
from dualpath.draft.snapshot import Snapshot
from dualpath.engines.ddl import Ddl


def draft_inverse(before: Snapshot, after: Snapshot, ddl: Ddl) -> Draft:
    """The statements that take ``after`` back to ``before``, dependency-safe."""
    return _Inverse(before, after, ddl).build()


class _Inverse:
    def __init__(self, before: Snapshot, after: Snapshot, ddl: Ddl) -> None:
        self.b, self.a, self.ddl = before, after, ddl
        self.draft = Draft()
        # phases run in this order; each list is filled while comparing
        self.drop_views: list[str] = []  # views, triggers
        self.drop_fks: list[str] = []  # every foreign key before the keys they may point at
        self.drop_early: list[str] = []  # indexes, unique and check constraints
        self.drop_keys: list[str] = []  # primary keys
        self.renames: list[str] = []
        self.drop_columns: list[str] = []
        self.make_types: list[str] = []
        self.alter: list[str] = []
        self.drop_tables: list[str] = []
        self.drop_routines: list[str] = []  # before the types they may use
        self.drop_late: list[str] = []  # types
        self.make_tables: list[str] = []
        self.add_columns: list[str] = []
        self.make_keys: list[str] = []
        self.make_late: list[str] = []  # indexes, unique and check constraints
        self.make_fks: list[str] = []  # last: they need the keys and unique constraints they point at
        self.make_routines: list[str] = []  # routines the change altered, as they were
        self.make_views: list[str] = []
        self.rebuilt: set[tuple[str, str]] = set()  # (table, column) dropped and added again
        self.keyed_by_server: dict[int, str] = {}  # foreign key → how it is added so the server makes its index

    def build(self) -> Draft:
        self._views()
        self._types()
        table_pairs = self._tables()
        for before_name, after_name in table_pairs:
            self._table(self.b.tables[before_name], self.a.tables[after_name])
        self._other_objects()
        self.draft.statements = [s for s in (
            self.drop_views + self.drop_fks + self.drop_early + self.drop_keys + self.renames + self.drop_columns
            + self.make_types + self.alter + self.drop_tables + self.drop_routines + self.drop_late
            + self.make_tables + self.add_columns
            + self.make_keys + self.make_late + self.make_fks + self.make_routines + self.make_views) if s]
        if self.draft.empty and self.b.fingerprint != self.a.fingerprint:
            unseen = self.b.fingerprint.diff(self.a.fingerprint)
            self.draft.notes.append("not drafted: the change made schema changes outside what drafts cover "
                                    "(e.g. another schema): " + "; ".join(unseen[:5])
                                    + (f" and {len(unseen) - 5} more" if len(unseen) > 5 else ""))
        elif outside := [line for line in self.b.fingerprint.diff(self.a.fingerprint) if in_other_schema(line)]:
            # views and sequences of other schemas are not drafted
            self.draft.notes.append("not drafted: changes in another schema: " + "; ".join(outside[:5])
                                    + (f" and {len(outside) - 5} more" if len(outside) > 5 else ""))
        return self.draft

    # -- views and types ----------------------------------------------------------------

    def _views(self) -> None:
        for name in sorted(self.a.views):
            if self.b.views.get(name) != self.a.views[name]:
                self.drop_views.append(self.ddl.drop_view(name))
        for name in sorted(self.b.views):
            if self.a.views.get(name) != self.b.views[name]:
                self.make_views.append(self.b.views[name])

    def _types(self) -> None:
        for name in sorted(set(self.b.types) | set(self.a.types)):
            old, new = self.b.types.get(name), self.a.types.get(name)
            if old == new:
                continue
            if new is not None and old is not None:
                self._enum_back(name, old, new)
            elif new is not None:
                self.drop_late.append(self.ddl.drop_type(name))
            elif old is not None:
                self.make_types.append(self.ddl.create_type(name, old))

    def _enum_back(self, name: str, old: list[str], new: list[str]) -> None:
        """PostgreSQL cannot remove an enum label: one label renamed goes back with RENAME VALUE; labels
        added, by making the type again as it was (the new one renamed aside, each column that uses it
        cast back through text, the aside one dropped once the tables the change made are gone)."""
        renamed = [(n, o) for o, n in zip(old, new, strict=False) if o != n]
        if len(old) == len(new) and len(renamed) == 1:
            self.alter.append(self.ddl.rename_label(name, *renamed[0]))
            return
        if not set(old) <= set(new):
            self.draft.notes.append(f"not drafted: enum {name} changed from {old} to {new}; re-create the type "
                                    "by hand")
            return
        aside = f"{name}__dualpath_new"
        routines = self._routines_using(name)
        if routines is None:
            return
        self.make_types += [self.ddl.drop_routine(kind, sig) for sig, kind in routines]
        self.make_types += [self.ddl.rename_type(name, aside), self.ddl.create_type(name, old)]
        self.make_types += [self.b.routines[sig] for sig, _ in reversed(routines)]
        for table in self.a.metadata.sorted_tables:
            back = self.b.tables.get(table.key)
            for column in table.columns:
                if not (isinstance(column.type, sa.Enum) and column.type.name == name):
                    continue
                if back is None or column.name not in back.columns:
                    continue  # made by the change: dropped with it
                if generation_of(column) is not None:  # no USING for a generated column: made again
                    self._rebuild_generated(back, back.columns[column.name])
                else:
                    default = self.ddl.default_of(back.columns[column.name])
                    self.make_types += self.ddl.retype_column(table.key, column, name, default)
        self.drop_late.append(self.ddl.drop_type(aside))
        added = [label for label in new if label not in old]
        self.draft.notes.append(f"enum {name} is made again without {added}: rows holding those labels make "
                                "the rollback fail; change them first")

    def _routines_using(self, name: str) -> list[tuple[str, str]] | None:
        """(signature, kind) of the routines that take or return enum ``name``, newest first: they hold on
        to the type itself, so they are dropped and made again from their earlier definitions around it.
        None (with a note) when one has no known earlier definition."""
        word = re.compile(rf"(?<![\w$]){re.escape(name)}(?![\w$])")
        found = []
        made = {sig: index for index, sig in enumerate(self.a.routine_order)}
        for sig, attrs in self.a.fingerprint.objects.get("function", {}).items():
            if word.search(sig.partition("(")[2]) or word.search(str(attrs.get("returns", ""))):
                if sig not in self.b.routines:
                    self.draft.notes.append(f"not drafted: enum {name} is used by routine {sig}, whose earlier "
                                            "definition is not known; re-create the type by hand")
                    return None
                found.append((sig, str(attrs.get("kind", "function"))))
        return sorted(found, key=lambda item: (-made.get(item[0], -1), item[0]))

    # -- tables -------------------------------------------------------------------------

    def _tables(self) -> list[tuple[str, str]]:
        """Tables in both schemas as (before name, after name); created and dropped ones drafted here."""
        gone = sorted(set(self.b.tables) - set(self.a.tables))
        new = sorted(set(self.a.tables) - set(self.b.tables))
        pairs = [(n, n) for n in sorted(set(self.b.tables) & set(self.a.tables))]
        for old, now in find_renames(gone, new, lambda n: table_shape(self.b.tables[n], self.ddl),
                                 lambda n: table_shape(self.a.tables[n], self.ddl)):
            self.renames.append(self.ddl.rename_table(now, old))
            self.draft.notes.append(f"table {old} is gone and {now} has its shape: taken for a rename, "
                                    f"renamed back")
            gone.remove(old)
            new.remove(now)
            pairs.append((old, now))
        created = set(new)
        for table in reversed(self.a.metadata.sorted_tables):
            if table.key in created:
                self.drop_tables.append(self.ddl.drop_table(table.key))
        dropped = set(gone)
        for table in self.b.metadata.sorted_tables:
            if table.key in dropped:
                self._make_table(table)
        return pairs

    def _make_table(self, table: sa.Table) -> None:
        self.make_tables.append(self.ddl.create_table(table))
        self.make_tables += [self.ddl.create_index(i) for i in sorted(table.indexes, key=key_of)]
        for fk in sorted(table.foreign_key_constraints, key=key_of):
            self._add_constraint(fk, table.name, self.make_fks)
        self.draft.irreversible.append(f"table {table.key} comes back empty")

    def _table(self, before: sa.Table, after: sa.Table) -> None:
        self._columns(before, after)
        self._constraints(before, after)
        if primary_key_of(before) != primary_key_of(after):
            if primary_key_of(after):
                self._drop_constraint(after.primary_key, after.key, self.drop_keys)
            if primary_key_of(before):
                self._add_constraint(before.primary_key, before.key, self.make_keys)

    def _columns(self, before: sa.Table, after: sa.Table) -> None:
        gone = [c for c in before.columns.keys() if c not in after.columns]
        new = [c for c in after.columns.keys() if c not in before.columns]
        for old, now in find_renames(gone, new, lambda n: column_shape(before.columns[n], self.ddl),
                                 lambda n: column_shape(after.columns[n], self.ddl)):
            self.renames.append(self.ddl.rename_column(before.key, now, old))
            self.draft.notes.append(f"column {before.key}.{old} is gone and {before.key}.{now} has its "
                                    "definition: taken for a rename, renamed back")
            gone.remove(old)
            new.remove(now)
        self.drop_columns += [self.ddl.drop_column(before.key, c) for c in new]
        for name in gone:
            column = before.columns[name]
            self.add_columns.append(self.ddl.add_column(before.key, column))
            self.draft.irreversible.append(f"column {before.key}.{name} comes back empty")
            if not column.nullable and column.server_default is None:
                self.draft.notes.append(f"{before.key}.{name} is NOT NULL without a default: on a table with "
                                        "rows, add it nullable, fill it, then set NOT NULL")
        for name in before.columns.keys():
            if name not in after.columns:
                continue
            if generation_of(before.columns[name]) != generation_of(after.columns[name]):
                self._rebuild_generated(before, before.columns[name])
            else:
                self._column(before.key, after.columns[name], before.columns[name])

    def _rebuild_generated(self, before: sa.Table, column: sa.Column[Any]) -> None:
        """A generated column whose expression the change altered (or which became or stopped being one):
        dropped and added again as it was; its values are computed again, so no data is lost. Indexes
        and constraints on it go with the drop, so those the change left as they were are made again."""
        self.drop_columns.append(self.ddl.drop_column(before.key, column.name))
        self.add_columns.append(self.ddl.add_column(before.key, column))
        self.rebuilt.add((before.key, column.name))
        if generation_of(column) is None:
            self.draft.irreversible.append(f"column {before.key}.{column.name} was a plain column before the "
                                           "change: it comes back empty")

    def _column(self, table: str, now: sa.Column[Any], back: sa.Column[Any]) -> None:
        old_type, new_type = self.ddl.type_of(back), self.ddl.type_of(now)
        if (old_type, back.nullable, self.ddl.default_of(back)) == \
                (new_type, now.nullable, self.ddl.default_of(now)):
            return
        statements = self.ddl.alter_column(table, now, back)
        if statements is None:
            self.draft.notes.append(f"not drafted: column {table}.{back.name} changed ({new_type} now, "
                                    f"{old_type} before) and this database cannot alter a column in place; "
                                    "rebuild the table by hand")
            return
        self.alter += statements
        if old_type != new_type:
            if narrows(old_type, new_type):
                self.draft.irreversible.append(f"{table}.{back.name} was narrowed from {old_type} to {new_type}: "
                                               "values cut by the change do not come back")
            elif narrows(new_type, old_type):
                self.draft.notes.append(f"{table}.{back.name} goes back from {new_type} to {old_type}: "
                                        "values that do not fit make the rollback fail")
            else:
                self.draft.notes.append(f"{table}.{back.name} is converted back from {new_type} to {old_type} "
                                        "with a cast: check that every value converts")

    # -- indexes and constraints --------------------------------------------------------

    def _constraints(self, before: sa.Table, after: sa.Table) -> None:
        old_fks, new_fks = by_name(before.foreign_key_constraints), by_name(after.foreign_key_constraints)
        old_ix, new_ix = by_name(before.indexes), by_name(after.indexes)
        old_other, new_other = by_name(plain_constraints(before)), by_name(plain_constraints(after))
        for key in sorted(set(new_fks) - set(old_fks)):
            self._drop_constraint(new_fks[key], after.key, self.drop_fks)
        for key in sorted(set(new_ix) - set(old_ix)):
            if survives(new_ix[key], before):
                self.drop_early.append(self.ddl.drop_index(new_ix[key]))
        for key in sorted(set(new_other) - set(old_other)):
            if survives(new_other[key], before):
                self._drop_constraint(new_other[key], after.key, self.drop_early)
        remade_fks = [old_fks[k] for k in sorted(set(old_fks) - set(new_fks))] + [
            old_fks[k] for k in sorted(set(old_fks) & set(new_fks))
            if definition_of(old_fks[k]) != definition_of(new_fks[k])]
        made_by_key = self._indexes_made_by_keys(remade_fks, old_ix, new_ix)
        for key in sorted(set(old_ix) - set(new_ix)):
            if key not in made_by_key:
                self.make_late.append(self.ddl.create_index(old_ix[key]))
        for key in sorted(set(old_other) - set(new_other)):
            self._add_constraint(old_other[key], before.key, self.make_late)
        for key in sorted(set(old_fks) - set(new_fks)):
            self._add_constraint(old_fks[key], before.key, self.make_fks)
        # the same name, another definition (MySQL names added foreign keys <table>_ibfk_N again; an index
        # turned from unique to plain): drop the new one, make the old one
        for key in sorted(set(old_fks) & set(new_fks)):
            if definition_of(old_fks[key]) != definition_of(new_fks[key]):
                self._drop_constraint(new_fks[key], after.key, self.drop_fks)
                self._add_constraint(old_fks[key], before.key, self.make_fks)
        for key in sorted(set(old_ix) & set(new_ix)):
            if definition_of(old_ix[key]) != definition_of(new_ix[key]):
                self.drop_early.append(self.ddl.drop_index(new_ix[key]))
                if key not in made_by_key:
                    self.make_late.append(self.ddl.create_index(old_ix[key]))
            elif self._on_rebuilt(before.key, old_ix[key]):  # dropped with its column: made again
                self.make_late.append(self.ddl.create_index(old_ix[key]))
        for key in sorted(set(old_other) & set(new_other)):
            if definition_of(old_other[key]) != definition_of(new_other[key]):
                self._drop_constraint(new_other[key], after.key, self.drop_early)
                self._add_constraint(old_other[key], before.key, self.make_late)
            elif self._on_rebuilt(before.key, old_other[key]):
                self._add_constraint(old_other[key], before.key, self.make_late)

    def _indexes_made_by_keys(self, fks: list[sa.ForeignKeyConstraint], old_ix: dict[str, Any],
                              new_ix: dict[str, Any]) -> set[str]:
        """The earlier indexes the server makes again itself when a foreign key is re-added in the form it
        was first declared in (MySQL's own index for an unnamed key); those keys are added that way."""
        made: set[str] = set()
        for fk in fks:
            for key, index in old_ix.items():
                if key in new_ix and definition_of(index) == definition_of(new_ix[key]):
                    continue  # still there: nothing to make
                statement = self.ddl.add_foreign_key_making_index(fk, index)
                if statement is not None:
                    made.add(key)
                    self.keyed_by_server[id(fk)] = statement
                    break
        return made

    def _on_rebuilt(self, table: str, item: Any) -> bool:
        return any((table, str(c.name)) in self.rebuilt for c in getattr(item, "columns", []))

    def _drop_constraint(self, constraint: sa.Constraint, table: str, phase: list[str]) -> None:
        statement = self.ddl.drop_constraint(constraint)
        if statement is None:
            self.draft.notes.append(f"not drafted: dropping constraint {constraint.name or '(unnamed)'} of "
                                    f"{table} needs a table rebuild on this database")
        else:
            phase.append(statement)

    def _add_constraint(self, constraint: sa.Constraint, table: str, phase: list[str]) -> None:
        statement = self.keyed_by_server.get(id(constraint)) or self.ddl.add_constraint(constraint)
        if statement is None:
            self.draft.notes.append(f"not drafted: adding constraint {constraint.name or '(unnamed)'} to "
                                    f"{table} needs a table rebuild on this database")
        else:
            phase.append(statement)

    # -- what reflection does not cover: routines, triggers, sequences, extensions ------

    def _other_objects(self) -> None:
        old, new = self.b.fingerprint.objects, self.a.fingerprint.objects
        created_tables = set(self.a.tables) - set(self.b.tables)
        made = {name: index for index, name in enumerate(self.a.routine_order)}
        for kind in ("trigger", "function", "sequence", "extension"):
            before, after = old.get(kind, {}), new.get(kind, {})
            # newest first: a routine may depend on those it calls (PostgreSQL's SQL-standard bodies)
            for name in sorted(set(after) - set(before), key=lambda n: (-made.get(n, -1), n)):
                attrs = after[name]
                if attrs.get("table") in created_tables or attrs.get("owned_by"):
                    continue  # goes with its table or column
                if kind == "trigger":
                    self.drop_views.append(self.ddl.drop_trigger(str(attrs["table"]),
                                                                    name[len(str(attrs["table"])) + 1:]))
                elif kind == "function":
                    self.drop_routines.append(self.ddl.drop_routine(str(attrs.get("kind", "function")), name))
                else:
                    self.draft.notes.append(f"not drafted: {kind} {name} was created by the change; drop it")
            for name in sorted(set(before) - set(after)):
                if before[name].get("table") not in set(self.b.tables) - set(self.a.tables) \
                        and not before[name].get("owned_by"):
                    self.draft.notes.append(f"not drafted: {kind} {name} was dropped by the change; "
                                            "re-create it from its earlier migration")
            for name in sorted(set(before) & set(after)):
                if before[name] == after[name]:
                    continue
                same_result = before[name].get("returns") == after[name].get("returns")
                if kind == "function" and same_result and name in self.b.routines:
                    # pg_get_functiondef writes CREATE OR REPLACE: the earlier body, in place
                    self.make_routines.append(self.b.routines[name])
                else:
                    self.draft.notes.append(f"not drafted: {kind} {name} was changed by the change; "
                                            "restore its earlier definition by hand")
