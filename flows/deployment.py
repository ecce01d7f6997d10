"""A build step of prefect.yaml, run by ``prefect deploy``: the folder workers run the flows from.

The pull step of every deployment changes into that folder before the flow loads
(``flows/migrate.py``, and the ``config`` parameter relative to it). Prefect resolves a
``{{ $VAR }}`` in a pull step on the worker, when each run starts, and an unset variable becomes
an empty string: every run then crashes looking for ``flows/migrate.py`` in a temporary folder.
So the folder is decided here, at deploy time, from ``DUALPATH_HOME``; an unset or wrong value
fails the deploy with a message, and the deployment stores the absolute folder for its pull step.
"""

from __future__ import annotations

from pathlib import Path

ENTRYPOINT = Path("flows") / "migrate.py"
_EXAMPLE = "DUALPATH_HOME=$PWD prefect --no-prompt deploy --all"


class DeploymentRefused(SystemExit):
    """Stops ``prefect deploy`` with this message (no traceback: a SystemExit passes Prefect's step and CLI
    error handling untouched, and Python prints its text and exits 1); nothing is deployed."""


def project_home(home: str) -> dict[str, str]:
    """``{"directory": <absolute folder>}`` for the pull step; refuses a folder that cannot run the flows."""
    if not home.strip():
        raise DeploymentRefused(f"error: DUALPATH_HOME is not set: the deployments would not know where workers "
                                f"find {ENTRYPOINT}, and every run would crash; nothing was deployed\n"
                                "  next: from the dualpath checkout (the folder holding prefect.yaml), run "
                                f"`{_EXAMPLE}`")
    folder = Path(home).expanduser().resolve()
    if not (folder / ENTRYPOINT).is_file():
        raise DeploymentRefused(f"error: DUALPATH_HOME={home} has no {ENTRYPOINT}: every run of these deployments "
                                f"would crash; nothing was deployed\n"
                                f"  next: point DUALPATH_HOME at the dualpath checkout (the folder holding "
                                f"prefect.yaml), e.g. `{_EXAMPLE}`")
    return {"directory": str(folder)}
