"""Random and broken dualpath.toml files: the CLI names the file and the key, never crashes, never writes.

Each example starts from a valid config (a target on the test's PostgreSQL database and an
environment of two tenants on it) and mutates it: wrong types, unknown keys, missing keys,
bad URLs, windows, waves and tenants; then maybe breaks the TOML text itself. lint, status,
plan, tenants and apply run with it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from hypothesis import event, given
from hypothesis import strategies as st

from dualpath.config import load_settings
from dualpath.errors import DualpathError
from tests.reliability.fuzz_support import (
    Run,
    base_project,
    check_result,
    clean_database,
    file_mutation,
    fuzz_settings,
    log_example,
    mark_dirty,
    names_config,
    project_folder,
    run_cli,
    snapshot,
)

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")
# what a user may get wrong, key by key
_PATHS = [("migrations",), ("ticket_pattern",), ("ticket_link",), ("applied_by",), ("safety",),
          ("safety", "lock_timeout_ms"), ("safety", "statement_timeout_ms"), ("safety", "lock_retries"),
          ("targets",), ("targets", "db"), ("targets", "db", "url"), ("targets", "db", "migrations"),
          ("targets", "db", "safety"), ("targets", "db", "environment"), ("environments",),
          ("environments", "staging"), ("environments", "staging", "window"), ("environments", "staging", "wave_size"),
          ("environments", "staging", "tenants"), ("environments", "staging", "canary"),
          ("environments", "staging", "tenant_url_template"), ("environments", "staging", "tenant_names"),
          ("environments", "staging", "failure_threshold"), ("environments", "staging", "approval"),
          ("environments", "staging", "protected"), ("environments", "staging", "gates"),
          ("environments", "staging", "host_concurrency"), ("environments", "staging", "window_grace_s"),
          ("hosts",), ("hosts", "127.0.0.1:5432"), ("hosts", "127.0.0.1:5432", "concurrency"),
          ("lint",), ("lint", "disable"), ("lint", "fail_on"),
          ("owners",), ("pii_columns",), ("impact",), ("backup",), ("backup", "destination"), ("slack",),
          ("validation",), ("escalation",)]
_VALUES = st.sampled_from([
    0, -1, 1, 2**40, 1.5, True, "", "ten", "x" * 300, [], [1, "a"], {}, {"x": 1}, ["DP012"], [{"name": "a"}],
    "postgresql://", "postgresql://u:p@[::1:5432/db", "mysql+nodriver://h/db", "oracle://h/db", "sqlite:", "://",
    "postgresql://postgres@127.0.0.1:1/nowhere", "${UNSET_DUALPATH_FUZZ_VAR}", "${X:-}", "secret:foo",
    "{{ prefect.blocks.secret.x }}", "Sat 02:00-05:00 Europe/Berlin", "Sat 25:00-26:00", "Funday 02:00-03:00",
    "Sat 02:00-05:00 Mars/Olympus", "Mon-Fri", "02:00-01:00", "*", "/nonexistent/folder", "../..", "warning",
    "error", "never", "always", "irreversible", "run", "failed", [{"name": "a", "url": "x://"}],
    [{"name": "a"}], [{"url": "postgresql://h/db"}], [{"name": "a", "url": "postgresql://postgres@127.0.0.1/x",
                                                      "canary": "yes"}], ["a", "a"], "file:///dev/null/x",
    [{"name": "g", "kind": "sql"}], [{"name": "g", "kind": "nope"}], [{"name": "g", "kind": "http", "url": 3}],
]) | st.text(max_size=20) | st.integers(-10, 10)


def base_config(url: str) -> dict[str, Any]:
    tenants = [{"name": "north", "url": url, "canary": True}, {"name": "south", "url": url}]
    return {"migrations": "migrations", "safety": {"lock_timeout_ms": 300, "lock_retries": 0},
            "targets": {"db": {"url": url}},
            "environments": {"staging": {"tenants": tenants, "wave_size": 1, "window": "Mon-Sun 00:00-23:59 UTC"}}}


@st.composite
def mutated_config(draw: st.DrawFn, url: str) -> tuple[bytes, list[str]]:
    """A config dict with one to three wrong values, written as TOML, maybe then broken as text."""
    config = base_config(url)
    done = []
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_PATHS))
        op = draw(st.sampled_from(["set", "set", "delete", "unknown"]))
        _change(config, path, op, draw(_VALUES), draw(st.from_regex(r"[a-z_]{1,10}", fullmatch=True)))
        done.append(f"{op}:{'.'.join(path)}")
    text = to_toml(config).encode()
    if draw(st.integers(0, 3)) == 0:
        name, text = draw(file_mutation(text))
        done.append(f"text:{name}")
    return text, done


def _change(config: dict[str, Any], path: tuple[str, ...], op: str, value: Any, unknown: str) -> None:
    node: Any = config
    for key in path[:-1]:
        if not isinstance(node, dict):
            return
        node = node.setdefault(key, {})
    if not isinstance(node, dict):
        return
    if op == "set":
        node[path[-1]] = value
    elif op == "delete":
        node.pop(path[-1], None)
    else:
        target = node.get(path[-1])
        (target if isinstance(target, dict) else node)[unknown] = value


def to_toml(config: dict[str, Any]) -> str:
    """Top-level scalars, then one [table] per top-level table with inline values: valid TOML for any dict."""
    head = [f"{_key(k)} = {_value(v)}" for k, v in config.items() if not isinstance(v, dict)]
    tables = [f"\n[{_key(k)}]\n" + "\n".join(f"{_key(ik)} = {_value(iv)}" for ik, iv in v.items())
              for k, v in config.items() if isinstance(v, dict)]
    return "\n".join(head) + "\n" + "\n".join(tables) + "\n"


def _key(key: str) -> str:
    return key if _BARE.match(key) else json.dumps(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"


def _loads(config: Path) -> bool:
    try:
        load_settings(config)
    except DualpathError:
        return False
    return True


# messages that may not name the config file (none left: each names its file and key)
KNOWN_UNNAMED: tuple[str, ...] = ()


def _check(run: Run, config: Path, root: Path) -> None:
    if run.exit_code == 2 and run.output.startswith(KNOWN_UNNAMED):
        event(f"known unnamed: {run.output.splitlines()[0]}")
        return
    check_result(run, places=(str(root), str(config)), config=config)
    if run.exit_code == 2 and not _loads(config):
        assert names_config(run.output, config), f"{run.command}: config file or key not named:\n{run.output}"


def test_broken_config_is_named_by_file_and_key(pg_url: str) -> None:
    @fuzz_settings(20)
    @given(mutated_config(pg_url))
    def check(example: tuple[bytes, list[str]]) -> None:
        text, mutations = example
        with project_folder(base_project("flyway")) as root:
            config = root / "dualpath.toml"
            config.write_bytes(text)
            empty = clean_database(pg_url)
            codes = {}
            for args in (["lint", str(root / "migrations")], ["status", "--url", "db"], ["plan"],
                         ["tenants", "--env", "staging"]):
                run = run_cli(*args, "--config", str(config))
                _check(run, config, root)
                codes[args[0]] = run.exit_code
            assert snapshot(pg_url) == empty, f"a read-only command changed the database: {codes}"
            mark_dirty(pg_url)
            apply = run_cli("apply", "--config", str(config))
            _check(apply, config, root)
            codes["apply"] = apply.exit_code
            if apply.exit_code == 2:
                assert snapshot(pg_url) == empty, f"apply exited 2 but changed the database:\n{apply.output}"
            if not _loads(config):
                assert set(codes.values()) == {2}, f"a config that does not load let a command run: {codes}"
        event(f"config loads={_loads_text(text)} apply={codes['apply']}")
        log_example("config", {"mutations": mutations, **codes})

    check()


def _loads_text(text: bytes) -> bool:
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".toml") as handle:
        handle.write(text)
        handle.flush()
        return _loads(Path(handle.name))
