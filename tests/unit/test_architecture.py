"""What README.md and docs/architecture.md claim about the code, checked against the code."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from dualpath.risk.registry import all_rules

ROOT = Path(__file__).resolve().parents[2]
RULES = 68  # a new rule changes this number, the README's and the generated docs/rules/ together
DIALECTS = {"postgresql", "postgres", "mysql", "mariadb", "sqlite"}
HOMES = ("dualpath/engines/", "dualpath/risk/")  # where dialect knowledge belongs


def test_the_rule_count_is_pinned() -> None:
    assert len(all_rules()) == RULES


def test_the_readme_counts_the_rules_there_are() -> None:
    counts = re.findall(r"\((\d+) rules\)", (ROOT / "README.md").read_text())
    assert counts and {int(n) for n in counts} == {len(all_rules())}, counts


def test_only_the_modules_the_architecture_doc_lists_name_a_dialect_outside_engines_and_risk() -> None:
    doc = (ROOT / "docs" / "architecture.md").read_text()
    section = doc.split("## Where a dialect is named outside engines/ and risk/", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`([\w/]+\.py)`", section))
    assert _naming_a_dialect() == listed


def test_the_developer_guide_points_at_the_architecture_doc_inside_the_repository() -> None:
    guide = (ROOT / "docs" / "development.md").read_text()
    assert "architecture.md" in guide and "../shared" not in guide


def _naming_a_dialect() -> set[str]:
    """Modules whose code (not a docstring, not a parameter's default) holds a dialect's name."""
    sources = [p for folder in ("dualpath", "flows", "tasks", "expectations") for p in (ROOT / folder).rglob("*.py")
               if not _behind_a_link(p)]
    found = set()
    for path in sources:
        name = path.relative_to(ROOT).as_posix()
        if name.startswith(HOMES):
            continue
        tree = ast.parse(path.read_text())
        skipped = _docstrings(tree) | _defaults(tree)
        if any(isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.lower() in DIALECTS
               and id(node) not in skipped for node in ast.walk(tree)):
            found.add(name)
    return found


def _behind_a_link(path: Path) -> bool:
    """dualpath/flows and the other links lead to the top-level folders, which are scanned as themselves."""
    return any(parent.is_symlink() for parent in path.relative_to(ROOT).parents if parent != Path("."))


def _docstrings(tree: ast.AST) -> set[int]:
    kinds = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, kinds) and node.body and isinstance(node.body[0], ast.Expr)}


def _defaults(tree: ast.AST) -> set[int]:
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    return {id(default) for node in ast.walk(tree) if isinstance(node, functions)
            for default in [*node.args.defaults, *node.args.kw_defaults] if default is not None}
