"""``dualpath lint --fix``: rewrite the statements that have a mechanical safe form.

Findings come from the same rules as ``dualpath lint``; each fixable one is handed to its fix in
``dualpath.risk.fixes``. Edits land on the statement's own text (found from the splitter's file and
line), so every other byte of the file stays as it was. See docs/lint-fix.md.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from dualpath.changes import Change
from dualpath.errors import DualpathError, InputError
from dualpath.risk.catalogue import Catalogue, Version, family_of
from dualpath.risk.check import build_context, ignored
from dualpath.risk.context import Context, Item
from dualpath.risk.fixes import NO_TRANSACTION, Known, Rewrite, Skip, fixes_by_rule
from dualpath.risk.model import Finding
from dualpath.risk.registry import check_rule_ids, rules_for

_BOM = "\ufeff"
SESSION_OPS = ("set", "set_timeout")


@dataclass(frozen=True)
class Edit:
    start: int
    end: int
    text: str


@dataclass
class FileFix:
    """One file before and after its fixes."""

    path: Path
    before: str
    after: str
    fixed: list[Finding] = field(default_factory=list)

    def diff(self) -> str:
        return "".join(difflib.unified_diff(self.before.splitlines(keepends=True),
                                            self.after.splitlines(keepends=True),
                                            fromfile=str(self.path), tofile=str(self.path)))


@dataclass
class FixReport:
    files: list[FileFix]
    skipped: list[tuple[Finding, str]]

    @property
    def fixed(self) -> list[Finding]:
        return [f for file in self.files for f in file.fixed]


@dataclass
class _Planned:
    item: Item
    finding: Finding
    rewrite: Rewrite


def fix_paths(paths: list[Path], *, dialect: str, version: Version | None = None,
              disabled: set[str] | frozenset[str] = frozenset()) -> FixReport:
    """The rewritten text of every file that has something to fix; nothing is written here."""
    from dualpath.risk.lint import _catalogue, read_path

    check_rule_ids(disabled)
    catalogue = _catalogue(dialect, version, None)
    changes: list[tuple[Change, bool]] = []
    for path in paths:
        changes.extend(read_path(Path(path), catalogue)[0])
    contexts = [build_context(c, catalogue, knows_rollback=k) for c, k in changes]
    known = Known(primary_keys=primary_keys(contexts))
    edits: dict[str, list[Edit]] = defaultdict(list)
    fixed: dict[str, list[Finding]] = defaultdict(list)
    skipped: list[tuple[Finding, str]] = []
    texts = _Texts()
    for ctx in contexts:
        planned, skips = plan_change(ctx, catalogue, disabled, known)
        skipped.extend(skips)
        for plan, edit_list in place(ctx, planned, texts, skipped):
            edits[plan.finding.file].extend(edit_list)
            fixed[plan.finding.file].append(plan.finding)
    files = []
    for name, file_edits in sorted(edits.items()):
        file_fix = texts.apply(name, file_edits, family_of(catalogue.dialect))
        if isinstance(file_fix, Skip):
            skipped.extend((f, file_fix.reason) for f in fixed[name])
            continue
        file_fix.fixed = fixed[name]
        files.append(file_fix)
    return FixReport(files, sorted(skipped, key=lambda s: (s[0].file, s[0].line, s[0].rule)))


def plan_change(ctx: Context, catalogue: Catalogue, disabled: set[str] | frozenset[str],
                known: Known) -> tuple[list[_Planned], list[tuple[Finding, str]]]:
    """The rewrite of each fixable finding in one change, or why it is left to a person."""
    fixes = fixes_by_rule(ctx.family)
    planned: dict[int, _Planned] = {}
    skipped: list[tuple[Finding, str]] = []
    for rule in rules_for(ctx.family, disabled):
        fix = fixes.get(rule.id)
        if fix is None:
            continue
        for finding in rule.check(ctx):
            if ignored(finding, ctx):
                continue
            item = next((i for i in ctx.items if i.statement.file == finding.file
                         and i.statement.line == finding.line), None)
            if item is None or item.error is not None:
                skipped.append((finding, "the statement cannot be read"))
                continue
            if id(item) in planned:
                skipped.append((finding, f"the statement is already rewritten for {planned[id(item)].finding.rule}"))
                continue
            result = fix.rewrite(ctx, item, finding, known)
            if isinstance(result, Skip):
                skipped.append((finding, result.reason))
            else:
                planned[id(item)] = _Planned(item, finding, result)
    return _need_own_change(ctx, list(planned.values()), skipped)


def _need_own_change(ctx: Context, planned: list[_Planned], skipped: list[tuple[Finding, str]]
                     ) -> tuple[list[_Planned], list[tuple[Finding, str]]]:
    """Rewrites that only help outside a transaction need a change that may run without one."""
    if ctx.change.directive("no-transaction") is not None:
        return planned, skipped
    kept = []
    solo = {id(p.item) for p in planned if p.rewrite.no_transaction and p.item.part == "forward"}
    others = [i for i in ctx.forward if id(i) not in solo and not _session_only(i)]
    for plan in planned:
        if not plan.rewrite.no_transaction:
            kept.append(plan)
        elif plan.item.part != "forward":
            skipped.append((plan.finding, "in a rollback: move it into a change of its own and fix it there"))
        elif others:
            skipped.append((plan.finding, f"shares its change with the statement at line {others[0].statement.line}: "
                            "move it into a change of its own, then run --fix again"))
        else:
            kept.append(plan)
    return kept, skipped


def _session_only(item: Item) -> bool:
    return bool(item.ops) and all(op.kind in SESSION_OPS for op in item.ops)


def place(ctx: Context, planned: list[_Planned], texts: _Texts, skipped: list[tuple[Finding, str]]
          ) -> list[tuple[_Planned, list[Edit]]]:
    """Turn rewrites into edits at the statements' offsets; add the no-transaction directive once."""
    placed = []
    for plan in planned:
        edits = texts.edits_for(plan.item, plan.rewrite)
        if edits is None:
            skipped.append((plan.finding, "the statement's text was not found where the splitter put it"))
        else:
            placed.append((plan, edits))
    needs_directive = any(p.rewrite.no_transaction for p, _ in placed)
    if needs_directive and ctx.forward and ctx.change.directive("no-transaction") is None:
        first = ctx.forward[0]
        directive = texts.edits_for(first, Rewrite((first.statement.text,), above=(NO_TRANSACTION,)))
        if directive is None:
            skipped.extend((p.finding, "could not place the no-transaction directive") for p, _ in placed
                           if p.rewrite.no_transaction)
            return [(p, e) for p, e in placed if not p.rewrite.no_transaction]
        placed[0][1].extend(e for e in directive if e.start == e.end)  # the insertion only
    return placed


class _Texts:
    """Files as read from disk, with the offsets of their lines; edits are computed on LF text."""

    def __init__(self) -> None:
        self._files: dict[str, tuple[str, str, list[int]] | Skip] = {}

    def load(self, name: str) -> tuple[str, str, list[int]] | Skip:
        if name not in self._files:
            self._files[name] = self._read(Path(name))
        return self._files[name]

    @staticmethod
    def _read(path: Path) -> tuple[str, str, list[int]] | Skip:
        try:
            raw = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            return Skip(f"cannot read {path}: {exc}")
        body = raw[len(_BOM):] if raw.startswith(_BOM) else raw
        if body.count("\r") != body.count("\r\n"):
            return Skip("the file mixes line endings (lone CR): normalise it first")
        text = body.replace("\r\n", "\n")
        starts = [0] + [m.end() for m in re.finditer("\n", text)]
        return raw, text, starts

    def edits_for(self, item: Item, rewrite: Rewrite) -> list[Edit] | None:
        loaded = self.load(item.statement.file)
        if isinstance(loaded, Skip) or item.statement.line > len(loaded[2]):
            return None
        _, text, starts = loaded
        line_start = starts[item.statement.line - 1]
        line_end = starts[item.statement.line] if item.statement.line < len(starts) else len(text)
        start = text.find(item.statement.text, line_start)
        if start < 0 or start >= line_end:
            return None
        indent = text[line_start:start]
        edits = []
        if rewrite.above:
            lines = "".join(f"{line}\n" for line in rewrite.above)
            if indent.strip():  # something else stands before it on its line
                edits.append(Edit(start, start, "\n" + lines))
            else:
                edits.append(Edit(line_start, line_start, "".join(f"{indent}{line}\n" for line in rewrite.above)))
        joined = f";\n{indent if not indent.strip() else ''}".join(rewrite.statements)
        if joined != item.statement.text:
            edits.append(Edit(start, start + len(item.statement.text), joined))
        return edits

    def apply(self, name: str, edits: list[Edit], dialect: str) -> FileFix | Skip:
        loaded = self.load(name)
        if isinstance(loaded, Skip):
            return loaded
        raw, text, _ = loaded
        # from the end, so earlier offsets stay right; at one offset the insertion goes before the replacement
        for edit in sorted(edits, key=lambda e: (e.start, e.end > e.start), reverse=True):
            text = text[:edit.start] + edit.text + text[edit.end:]
        if "\r\n" in raw:
            text = text.replace("\n", "\r\n")
        if raw.startswith(_BOM):
            text = _BOM + text
        check = _still_reads(text, name, dialect)
        return check if isinstance(check, Skip) else FileFix(Path(name), raw, text)


def _still_reads(text: str, name: str, dialect: str) -> Skip | None:
    from dualpath.sql import split_with_directives

    try:
        split_with_directives(text.lstrip(_BOM).replace("\r\n", "\n"), file=name, dialect=dialect)
    except DualpathError as exc:
        return Skip(f"the fixed file would not read back ({exc.message}): left unchanged")
    return None


def primary_keys(contexts: list[Context]) -> dict[str, str]:
    """Single-column primary keys declared anywhere in the migration set, by table."""
    keys: dict[str, str] = {}
    for ctx in contexts:
        for item in ctx.forward:
            for op in item.ops:
                if op.kind in ("create_table", "add_constraint") and op.table:
                    key = _primary_key(item.statement.text, op.kind, ctx.family)
                    if key:
                        keys[op.table] = key
    return keys


_PK_INLINE = re.compile(r"[(,]\s*[`\"]?(\w+)[`\"]?\s+[^,()]*?\bPRIMARY\s+KEY\b", re.I)
_PK_LIST = re.compile(r"\bPRIMARY\s+KEY\s*\(\s*[`\"]?(\w+)[`\"]?\s*\)", re.I)


def _primary_key(text: str, kind: str, family: str) -> str | None:
    if family == "postgresql":
        return _pg_primary_key(text)
    found = _PK_LIST.search(text) or (_PK_INLINE.search(text) if kind == "create_table" else None)
    return found.group(1).lower() if found else None


def _pg_primary_key(text: str) -> str | None:
    from pglast import ast, parse_sql

    try:
        stmt = parse_sql(text)[0].stmt
    except Exception:  # unreadable: no key known, the guess stands
        return None
    constraints: list[tuple[ast.Constraint, str | None]] = []
    if isinstance(stmt, ast.CreateStmt):
        for elt in stmt.tableElts or ():
            if isinstance(elt, ast.ColumnDef):
                constraints.extend((c, str(elt.colname)) for c in elt.constraints or ())
            elif isinstance(elt, ast.Constraint):
                constraints.append((elt, None))
    elif isinstance(stmt, ast.AlterTableStmt):
        constraints.extend((c.def_, None) for c in stmt.cmds or () if isinstance(c.def_, ast.Constraint))
    for con, column in constraints:
        if con.contype is not None and con.contype.name == "CONSTR_PRIMARY":
            keys = [str(k.sval) for k in con.keys or ()] or ([column] if column else [])
            return keys[0] if len(keys) == 1 else None
    return None


def run_fix(paths: list[Path], *, dialect: str = "postgresql", version: Version | None = None,
            disabled: set[str] | frozenset[str] = frozenset(), write: bool = False) -> tuple[str, str, int]:
    """Diff (stdout), summary (stderr) and exit code of ``dualpath lint --fix [--write]``."""
    try:
        report = fix_paths(paths, dialect=dialect, version=version, disabled=disabled)
        if write:
            for file in report.files:
                file.path.write_bytes(file.after.encode("utf-8"))
    except DualpathError as exc:
        return "", str(exc), exc.exit_code
    except OSError as exc:
        error = InputError(f"cannot write the fixed file: {exc}", hint="check the file's permissions")
        return "", str(error), error.exit_code
    return "".join(f.diff() for f in report.files), summary(report, write), 0


def summary(report: FixReport, write: bool) -> str:
    verb = "fixed" if write else "would fix"
    lines = [f"{verb} {len(report.fixed)} finding(s) in {len(report.files)} file(s)"
             + ("" if write or not report.files else "; run with --write to apply")]
    for finding, reason in report.skipped:
        lines.append(f"not fixed: {finding.file}:{finding.line} {finding.rule}: {reason}")
    return "\n".join(lines)
