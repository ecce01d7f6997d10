"""dualpath installed the way a user installs it (``pip install``, not editable), into a folder of its own,
from a copy of the repository's files: the tests run it from another folder to see what a user sees."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("dualpath", "flows", "tasks", "expectations", "examples")


def install_copy(tmp: Path) -> Path:
    """``pip install --no-deps --target`` of a copy of the sources; returns the target (put it on PYTHONPATH:
    the dependencies come from this interpreter's environment)."""
    source, target = tmp / "source", tmp / "site"
    # from a copy: setuptools' build/ folder in the repository may hold modules removed since
    source.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for folder in FOLDERS:
        shutil.copytree(ROOT / folder, source / folder, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__", ".dualpath"))
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(source)],
                   check=True, capture_output=True, text=True, timeout=600)
    return target


def installed_env(target: Path, **extra: str) -> dict[str, str]:
    """The environment that runs the installed copy (and nothing of the repository's)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    return {**env, "PYTHONPATH": str(target), **extra}


def run_installed(target: Path, args: list[str], cwd: Path, timeout: float = 600,
                  **extra: str) -> subprocess.CompletedProcess[str]:
    """``dualpath ARGS`` through the installed copy's console script, from ``cwd``."""
    return subprocess.run([sys.executable, str(target / "bin" / "dualpath"), *args], cwd=cwd,
                          env=installed_env(target, **extra), capture_output=True, text=True, timeout=timeout)
