"""The verify flow: shadow round trips (up → down → up, fingerprints compared) of an environment's
pending changes, as a Prefect run with a Markdown artifact. The work is ``dualpath.verify``."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from dualpath.errors import VerificationFailed
from dualpath.rollout import verification_markdown
from dualpath.tasks.report import publish_document
from dualpath.tasks.tenant import verify_tenant
from dualpath.tenants import open_environment, plan_waves, resolve_tenants


@flow(name="dualpath-verify", flow_run_name="verify-{env}")
def verify(env: str, tenants: str | None = None, to_version: str | None = None, sample_rows: int = 0,
           config: str | None = None, migrations: str | None = None, report_dir: str | None = None) -> dict[str, Any]:
    """Round-trip the pending changes on a shadow of each chosen tenant (default: the first canary);
    fails with the first change whose rollback does not undo it."""
    ctx = open_environment(env, config, migrations)
    everyone = resolve_tenants(ctx.env, tenants or "all")
    chosen = everyone if tenants else plan_waves(everyone, ctx.env.wave_size)[0][:1]
    run_id = str(flow_run.id or "local")
    args = (env, config, str(ctx.migrations))
    futures = {t.name: verify_tenant.submit(*args, t, run_id, to_version, sample_rows) for t in chosen}
    reports = {name: f.result() for name, f in futures.items()}
    ok = all(r["ok"] for r in reports.values())
    text = "\n\n".join([f"# dualpath verify {run_id}: {'ok' if ok else 'FAILED'}",
                        f"Environment **{env}**: shadow round trips (up → down → up) of the pending changes."]
                       + [verification_markdown(name, r) for name, r in reports.items()])
    path = publish_document(env, "verify", run_id, text, f"dualpath verify {run_id}: {'ok' if ok else 'failed'}",
                            report_dir)
    get_run_logger().info("verify %s: %s", env, "ok" if ok else "FAILED")
    if not ok:
        name, report = next((n, r) for n, r in reports.items() if not r["ok"])
        bad = next(c for c in report["changes"] if not c["ok"])
        raise VerificationFailed(f"version {bad['version']} ({bad['description']}) does not round-trip on {name}: "
                                 + "; ".join(bad["problems"]), where=bad["file"],
                                 hint="make the rollback undo exactly what the change does, then verify again")
    return {"run_id": run_id, "ok": ok, "report": path, "tenants": reports}
