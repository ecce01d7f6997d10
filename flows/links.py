"""Where a run can be seen: the Prefect UI address of a flow run, derived from the API URL when unset."""

from __future__ import annotations

from prefect.settings import get_current_settings


def ui_base() -> str | None:
    settings = get_current_settings()
    if settings.ui_url:
        return str(settings.ui_url).rstrip("/")
    api = str(settings.api.url or "")
    return api.removesuffix("/").removesuffix("/api") if api else None


def run_url(run_id: str) -> str | None:
    base = ui_base()
    return f"{base}/runs/flow-run/{run_id}" if base and run_id != "local" else None


def run_links(run_id: str) -> dict[str, str]:
    url = run_url(run_id)
    return {"prefect-run": url} if url else {}


def artifacts_url(run_id: str) -> str | None:
    """The run's artifacts tab: where the report is when no report link is configured."""
    url = run_url(run_id)
    return f"{url}?tab=Artifacts" if url else None
