"""The migrate flow's backups run side by side, not one tenant after another, and no more at once than
the host limit."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e.conftest import versions, write_config

# A gate around the real pg_dump: each dump waits (30 s at most) until another one is running too,
# and leaves "met" or "alone" behind (backups one after another would each be alone), and how many
# were running when it met and when it ended ("seen.N").
GATE = """#!/bin/sh
case "$*" in *--version*) exec {real} "$@";; esac
touch {gate}/running.$$
i=0
while [ "$(ls {gate} | grep -c running)" -lt 2 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
if [ "$(ls {gate} | grep -c running)" -ge 2 ]; then touch {gate}/met.$$; else touch {gate}/alone.$$; fi
touch {gate}/seen.$(ls {gate} | grep -c running)
{real} "$@"
status=$?
touch {gate}/seen.$(ls {gate} | grep -c running)
rm -f {gate}/running.$$
exit $status
"""


def test_tenant_backups_overlap_within_the_host_limit(prefect_api: str, pg_tenants: dict[str, str],
                                                      tmp_path: Path) -> None:
    from dualpath.flows.migrate import migrate

    gate = tmp_path / "gate"
    config = config_around_pg_dump(tmp_path, pg_tenants, GATE, gate, host_concurrency=2)
    result = migrate(env="e2e", config=str(config), approve=True)  # 7 is irreversible: backups first
    assert result["outcome"] == "completed" and set(versions(pg_tenants).values()) == {"7"}
    marks = sorted(p.name for p in gate.iterdir())
    assert sum(m.startswith("met.") for m in marks) >= 2, marks  # two dumps ran at the same time
    assert max(int(m.split(".")[1]) for m in marks if m.startswith("seen.")) <= 2, marks  # never 4 of 4


# A pg_dump that counts its calls and fails every dump.
FAILING = """#!/bin/sh
case "$*" in *--version*) exec {real} "$@";; esac
touch {calls}/dump.$$
echo "pg_dump: error: permission denied for table customers (a test's failing dump)" >&2
exit 1
"""


def test_a_failed_backup_ends_the_run_before_more_dumps_start(prefect_api: str, pg_tenants: dict[str, str],
                                                              tmp_path: Path) -> None:
    from dualpath.flows.migrate import migrate

    calls = tmp_path / "calls"
    config = config_around_pg_dump(tmp_path, pg_tenants, FAILING, calls, host_concurrency=1)
    with pytest.raises(Exception, match="(?i)backup|pg_dump"):
        migrate(env="e2e", config=str(config), approve=True)  # 7 is irreversible: backups first
    # one slot: the first dump failed and no other tenant's dump was started after it
    assert len(list(calls.iterdir())) == 1, sorted(p.name for p in calls.iterdir())
    assert set(versions(pg_tenants).values()) == {"4"}  # nothing was applied


def config_around_pg_dump(tmp_path: Path, pg_tenants: dict[str, str], script: str, marks: Path,
                          host_concurrency: int) -> Path:
    """A config whose backups run ``script`` as pg_dump (the real one at ``{real}``, its marks in ``marks``),
    the tenants already at version 4 (the next run's change 7 is irreversible: backups first)."""
    from dualpath.flows.migrate import migrate

    real = shutil.which("pg_dump")
    if real is None:
        pytest.skip("pg_dump is not installed")
    marks.mkdir()
    wrapper = tmp_path / "pg_dump"
    wrapper.write_text(script.format(real=real, gate=marks, calls=marks))
    wrapper.chmod(0o755)
    config = write_config(tmp_path, pg_tenants, extra=f'[backup.tools]\npg_dump = "{wrapper}"\n',
                          host_concurrency=host_concurrency)
    assert migrate(env="e2e", config=str(config), to_version="4", approve=True)["outcome"] == "completed"
    return config
