"""An environment's tenants: who they are, in which waves they go, and what one tenant does.

Tenants come from ``dualpath.toml`` as a list of URLs or a URL template over names:
database-per-tenant on one server, or (PostgreSQL) schema-per-tenant in one database, the
schema named by ``search_path`` in the URL's libpq options
(``postgresql://app@db/shop?options=-csearch_path%3Dtenant_{tenant}``). Each tenant keeps its own
history table (in its database or schema), so its version is read from the tenant itself. URLs
keep their ``${ENV}`` references until a tenant is opened, so a resolved tenant list can be
logged or passed as a parameter.

targets: the tenants, their waves and runners; environment: what a rollout works in; preflight: a tenant
checked before anything runs; operations: what one tenant does; backups: tenants' backups, shared or not;
approvals; validation.
"""

from dualpath.tenants.approvals import approval_from_flow, record_approval
from dualpath.tenants.backups import back_up_tenant, back_up_tenants, share_groups
from dualpath.tenants.environment import EnvironmentContext, open_environment, run_actor
from dualpath.tenants.operations import (
    fingerprint_tenant,
    migrate_tenant,
    plan_tenant,
    restore_tenant,
    rollback_tenant,
    verify_tenant,
)
from dualpath.tenants.preflight import (
    Preflight,
    RolePolicy,
    check_tenant_role,
    preflight_tenant,
    read_role,
    role_policy,
)
from dualpath.tenants.targets import (
    Echo,
    TenantTarget,
    TenantVersion,
    applied_since,
    make_runner,
    plan_waves,
    protecting_environment,
    read_tenant_changes,
    read_version,
    resolve_tenants,
    schema_of,
    tenant_from,
    tenant_target,
    tenants_as_pairs,
)
from dualpath.tenants.validation import (
    ValidationFailed,
    ValidationPlan,
    describe_validation,
    prepare_validation,
    run_validation,
)

__all__ = [
    "Echo", "EnvironmentContext", "Preflight", "RolePolicy", "TenantTarget", "TenantVersion",
    "ValidationFailed", "ValidationPlan", "applied_since", "approval_from_flow", "back_up_tenant",
    "back_up_tenants", "check_tenant_role", "describe_validation", "fingerprint_tenant", "make_runner",
    "migrate_tenant",
    "open_environment", "plan_tenant", "plan_waves", "preflight_tenant", "prepare_validation",
    "protecting_environment", "read_role", "read_tenant_changes", "read_version", "record_approval",
    "resolve_tenants", "restore_tenant", "role_policy", "rollback_tenant", "run_actor", "run_validation", "schema_of",
    "share_groups", "tenant_from", "tenant_target", "tenants_as_pairs", "verify_tenant",
]
