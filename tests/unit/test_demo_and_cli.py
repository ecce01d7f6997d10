"""The README's main job, and the promise that core commands stay light."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dualpath.cli import app
from dualpath.demo import prove_round_trip


def test_demo_round_trip_proves_the_schema_identical(tmp_path: Path) -> None:
    # The demo's first act, Prefect-free; the whole demo (with the migrate flow) runs in tests/e2e.
    lines: list[str] = []
    prove_round_trip(tmp_path / "shop.db", lines.append)
    output = "\n".join(lines)
    assert "identical to the start" in output
    assert "identical to the first apply" in output
    assert "rolled back 6 changes" in output


def test_core_cli_imports_no_prefect_or_great_expectations() -> None:
    code = "import sys, dualpath.cli; print(sorted(m for m in sys.modules if m.split('.')[0] in " \
           "('prefect', 'great_expectations')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_linting_a_file_without_a_url_imports_no_database_layer(tmp_path: Path) -> None:
    sql = tmp_path / "one.sql"
    sql.write_text("CREATE INDEX i ON t (a);\n")
    code = ("import sys; from dualpath.cli import app\n"
            "try:\n    app(['lint', sys.argv[1]])\nexcept SystemExit as done:\n"
            "    print(done.code, sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'psycopg'}))")
    done = subprocess.run([sys.executable, "-c", code, str(sql)], capture_output=True, text=True)
    assert "DP001" in done.stdout, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1] == "0 []", done.stdout + done.stderr  # a warning: exit 0


def test_errors_never_show_a_traceback(tmp_path: object) -> None:
    result = CliRunner().invoke(app, ["detect", "--migrations", "/nonexistent/folder"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_approval_without_a_terminal_is_a_rejection(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from dualpath.cli.console import ask_approval

    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))  # piped input is not a person at a terminal
    answer = ask_approval("## plan", approver="ops")
    assert answer["decision"] == "reject" and "no terminal" in answer["comment"]


def test_a_closed_approval_prompt_is_a_rejection(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-D at the prompt: Typer raises its Abort (its own, since it carries click inside), which must be the
    one caught: a rejection, not a crash."""
    import io

    import typer

    from dualpath.cli import console

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    def closed(*_args: object, **_kwargs: object) -> bool:
        raise typer.Abort()

    monkeypatch.setattr(sys, "stdin", Terminal(""))
    monkeypatch.setattr(typer, "confirm", closed)
    answer = console.ask_approval("## plan", approver="ops")
    assert answer["decision"] == "reject" and "prompt was closed" in answer["comment"]


def test_a_usage_error_inside_a_command_is_typers_not_an_internal_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["status", "--url", f"sqlite:///{tmp_path}/x.db", "--migrations", str(tmp_path),
                                      "--format", "yaml"])
    assert result.exit_code == 2 and "internal error" not in result.output, result.output
    assert "text or json" in result.output
