"""A worker reads the environment and the migrations once, and again when a file changes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dualpath.tenants import open_environment, run_actor
from dualpath.tenants.cache import CHANGES, COMMITS, ENVIRONMENTS
from dualpath.tenants.targets import cached_changes

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "shop" / "migrations"


@pytest.fixture(autouse=True)
def empty_caches() -> None:
    for cache in (ENVIRONMENTS, CHANGES, COMMITS):
        cache.clear()


def write_config(folder: Path, wave_size: int) -> Path:
    path = folder / "dualpath.toml"
    path.write_text(f"migrations = {json.dumps(str(folder / 'migrations'))}\n\n[environments.prod]\n"
                    f'tenant_url_template = "sqlite:///{folder}/t_{{tenant}}.db"\ntenant_names = ["a", "b"]\n'
                    f"wave_size = {wave_size}\n")
    return path


def test_the_environment_is_read_once_until_the_config_changes(tmp_path: Path) -> None:
    config = write_config(tmp_path, 5)
    first = open_environment("prod", str(config))
    again = open_environment("prod", str(config))
    assert again is first and ENVIRONMENTS.loads == 1
    write_config(tmp_path, 7)  # same length, likely the same mtime tick: the content digest tells
    changed = open_environment("prod", str(config))
    assert ENVIRONMENTS.loads == 2 and changed.env.wave_size == 7 and first.env.wave_size == 5


def test_migrations_are_parsed_once_until_a_file_changes_or_appears(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    shutil.copytree(EXAMPLE, folder)
    first = cached_changes(folder, "sqlite")
    assert cached_changes(folder, "sqlite") == first and CHANGES.loads == 1
    edited = folder / "V7__drop_customer_name.sql"
    edited.write_text(edited.read_text().replace("COLUMN name", "COLUMN NAME"))  # same size
    after_edit = cached_changes(folder, "sqlite")
    assert CHANGES.loads == 2 and "NAME" in after_edit[-1].forward[0].text
    (folder / "V8__more.sql").write_text("CREATE TABLE more_things (id integer);\n")
    (folder / "U8__more.sql").write_text("DROP TABLE more_things;\n")
    assert [c.version for c in cached_changes(folder, "sqlite")][-1] == "8" and CHANGES.loads == 3
    cached_changes(folder, "postgresql")  # another dialect is another parse
    assert CHANGES.loads == 4


def test_a_run_looks_up_its_git_commit_once_per_folder(tmp_path: Path) -> None:
    actors = [run_actor("run-1", EXAMPLE, who) for who in ("ann", "bob", None)]
    assert COMMITS.loads == 1
    assert [a.who for a in actors[:2]] == ["ann", "bob"] and actors[2].who
    assert len({a.git_commit for a in actors}) == 1 and actors[0].git_commit  # examples/ is in this repository
    run_actor("run-2", EXAMPLE)
    assert COMMITS.loads == 2
