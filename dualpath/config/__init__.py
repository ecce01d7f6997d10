"""dualpath.toml → typed settings.

Secrets stay as written (``${PGPASSWORD}``) until a target is resolved, so a loaded
config can be printed or logged without leaking them.

models: the settings as typed models; loading: finding and reading the file; interpolation: ${ENV}
references; secrets: Prefect Secret block references, resolved inside a flow run only.
"""

from dualpath.config.interpolation import interpolate
from dualpath.config.loading import (
    config_label,
    environment,
    lint_config,
    load_settings,
    parse_toml,
)
from dualpath.config.models import (
    ApplyConfig,
    DocOwners,
    DocsConfig,
    Environment,
    FlywayConfig,
    GateConfig,
    HostConfig,
    LintConfig,
    PreflightConfig,
    RollbackConfig,
    Safety,
    Settings,
    Sources,
    TargetConfig,
    Tenant,
    VerifyConfig,
)
from dualpath.config.secrets import (
    SecretResolver,
    _secret_resolver,
    has_secret_refs,
    mask_secret_refs,
    resolve_secrets,
    set_secret_resolver,
)
from dualpath.defaults import CONFIG_NAME, find_config

__all__ = [
    "ApplyConfig", "CONFIG_NAME", "DocOwners", "DocsConfig", "Environment", "FlywayConfig", "GateConfig",
    "HostConfig", "LintConfig", "PreflightConfig", "RollbackConfig", "Safety", "SecretResolver", "Settings",
    "Sources", "TargetConfig", "Tenant", "VerifyConfig", "_secret_resolver", "config_label", "environment",
    "find_config", "has_secret_refs", "interpolate", "lint_config", "load_settings", "mask_secret_refs",
    "parse_toml", "resolve_secrets", "set_secret_resolver",
]
