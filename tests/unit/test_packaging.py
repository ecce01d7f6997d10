"""flows/, tasks/ and expectations/ sit at the top of the repository but install as dualpath.flows,
dualpath.tasks and dualpath.expectations: nothing of dualpath's is a top-level package of its own."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.install_support import install_copy, installed_env, run_installed

ROOT = Path(__file__).resolve().parents[2]
MAPPED = {"dualpath.flows": "flows", "dualpath.tasks": "tasks", "dualpath.expectations": "expectations"}


def setuptools_config() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def package_folders() -> set[str]:
    """Every folder of dualpath/ with an __init__.py, named as Python imports it (the links excluded)."""
    found = set()
    for init in (ROOT / "dualpath").rglob("__init__.py"):
        relative = init.parent.relative_to(ROOT)
        if not any((ROOT / Path(*relative.parts[:n])).is_symlink() for n in range(1, len(relative.parts) + 1)):
            found.add(".".join(relative.parts))
    return found | set(MAPPED)


def test_every_package_folder_is_listed_for_setuptools() -> None:
    assert sorted(setuptools_config()["packages"]) == sorted(package_folders())  # type: ignore[call-overload]


def test_the_top_level_folders_install_inside_the_dualpath_namespace() -> None:
    assert setuptools_config()["package-dir"] == MAPPED
    for package, folder in MAPPED.items():
        # the link lets mypy, import-linter and editors see the installed layout in the repository
        link = ROOT / package.replace(".", "/")
        assert link.is_symlink() and link.resolve() == (ROOT / folder).resolve(), link


def test_nothing_imports_the_folders_by_their_repository_names() -> None:
    """``import flows`` works from the repository root only, and then loads a second copy of each module."""
    top_level = re.compile(r"(?:^\s*|[\"';]\s*)(?:from|import) (?:flows|tasks|expectations)[\s.]", re.M)
    offenders = [path.relative_to(ROOT).as_posix()
                 for folder in ("dualpath", *MAPPED.values(), "tests", "bench", "docs")
                 for path in (ROOT / folder).rglob("*.py")
                 if not _behind_a_link(path) and top_level.search(path.read_text(encoding="utf-8"))]
    assert offenders == []


def _behind_a_link(path: Path) -> bool:
    return any(parent.is_symlink() for parent in path.relative_to(ROOT).parents if parent != Path("."))


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return install_copy(tmp_path_factory.mktemp("install"))


def test_a_non_editable_install_imports_flows_tasks_and_expectations(installed: Path, tmp_path: Path) -> None:
    target = installed
    listed = sorted(p.name for p in target.iterdir() if not p.name.endswith(".dist-info"))
    assert listed == ["bin", "dualpath"]  # bin/: the console script
    code = ("import dualpath.flows.migrate as f, dualpath.tasks.tenant as t, dualpath.expectations as e\n"
            "print(f.migrate.name); print(f.__file__); print(t.__file__); print(e.__file__)")
    env = installed_env(target, PREFECT_HOME=str(tmp_path / "prefect"))
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    name, *files = done.stdout.split()
    assert name == "dualpath-migrate"
    assert all(Path(file).is_relative_to(target / "dualpath") for file in files), files


def test_the_installed_package_carries_the_demo_example(installed: Path, tmp_path: Path) -> None:
    """`dualpath demo` from a folder that is not a clone: the shop example comes from the package."""
    shipped = installed / "dualpath" / "examples" / "shop"
    assert not shipped.is_symlink() and (shipped / "dualpath.toml").is_file()
    assert sorted(p.name for p in (shipped / "migrations").iterdir()) == \
        sorted(p.name for p in (ROOT / "examples" / "shop" / "migrations").glob("*.sql"))
    helped = run_installed(installed, ["demo", "--help"], cwd=tmp_path)
    assert helped.returncode == 0 and "--force" in helped.stdout, helped.stdout + helped.stderr
    # the demo's first act from the installed copy, in a folder of its own (no Prefect needed)
    code = ("import sys; from dualpath.demo import bundled_example, copy_example, prove_round_trip\n"
            "example = copy_example(bundled_example(), __import__('pathlib').Path('shop'))\n"
            "print(bundled_example()); prove_round_trip(__import__('pathlib').Path('rt.db'), print, example)")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=installed_env(installed),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert Path(done.stdout.splitlines()[0]) == shipped
    assert "identical to the start" in done.stdout and "identical to the first apply" in done.stdout
    assert not (shipped / ".dualpath").exists()  # the installation is only read
