"""Command groups beyond the core ones in cli.py, one module per topic.

Each module exposes ``register(app: typer.Typer) -> None``. Modules are discovered, so a
topic adds its commands without touching cli.py. They must import heavy libraries
(Prefect, Great Expectations, boto3) inside the command bodies, never at module level:
`dualpath lint/plan/status` start fast.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer


def register_all(app: typer.Typer) -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        module.register(app)
