"""The migrate flow's backups run side by side, not one tenant after another."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e.conftest import versions, write_config

# A gate around the real pg_dump: each dump waits (30 s at most) until another one is running too,
# and leaves "met" or "alone" behind. Backups one after another would each be alone.
GATE = """#!/bin/sh
case "$*" in *--version*) exec {real} "$@";; esac
touch {gate}/running.$$
i=0
while [ "$(ls {gate} | grep -c running)" -lt 2 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
if [ "$(ls {gate} | grep -c running)" -ge 2 ]; then touch {gate}/met.$$; else touch {gate}/alone.$$; fi
{real} "$@"
status=$?
rm -f {gate}/running.$$
exit $status
"""


def test_tenant_backups_overlap(prefect_api: str, pg_tenants: dict[str, str], tmp_path: Path) -> None:
    from dualpath.flows.migrate import migrate

    real = shutil.which("pg_dump")
    if real is None:
        pytest.skip("pg_dump is not installed")
    gate = tmp_path / "gate"
    gate.mkdir()
    wrapper = tmp_path / "pg_dump"
    wrapper.write_text(GATE.format(real=real, gate=gate))
    wrapper.chmod(0o755)
    config = write_config(tmp_path, pg_tenants, extra=f'[backup.tools]\npg_dump = "{wrapper}"\n')
    assert migrate(env="e2e", config=str(config), to_version="4", approve=True)["outcome"] == "completed"
    result = migrate(env="e2e", config=str(config), approve=True)  # 7 is irreversible: backups first
    assert result["outcome"] == "completed" and set(versions(pg_tenants).values()) == {"7"}
    dumps = [p.name.split(".")[0] for p in gate.iterdir()]
    assert dumps.count("met") >= 2, dumps  # two dumps ran at the same time
