"""flows/fan_out.py without a server: the fan_out choice, and how a child's final state becomes the tenant's
result or error (a crash names the runs and never passes for applied)."""

from __future__ import annotations

from uuid import uuid4

import pytest

from dualpath.errors import RunFailed, UsageError
from dualpath.flows.fan_out import Child, apply_children, check_fan_out


def test_fan_out_is_one_of_two_and_a_typo_is_a_usage_error() -> None:
    assert check_fan_out("in-process") == "in-process" and check_fan_out("deployments") == "deployments"
    with pytest.raises(UsageError, match="fan_out='deployment' is not one of in-process, deployments"):
        check_fan_out("deployment")


def test_children_carry_the_tenant_name_and_never_its_url() -> None:
    children = apply_children(("prod", "dualpath.toml", "/srv/m"), ["a", "b"], "run-1", "7", None)
    assert [c.parameters["tenant"] for c in children] == ["a", "b"]
    assert all("url" not in str(c.parameters).lower() for c in children)
    assert children[0].deployment == "dualpath-tenant-apply/tenant-apply"


def test_a_crashed_child_is_a_failed_tenant_naming_its_runs() -> None:
    from prefect.states import Crashed

    child = Child("b", "dualpath-tenant-apply/tenant-apply", {}, runs=[uuid4(), uuid4()],
                  state=Crashed(message="no heartbeat for 120 s"), crashes=["no heartbeat", "no heartbeat for 120 s"])
    with pytest.raises(RunFailed) as raised:
        child.result()
    assert raised.value.where == "tenant b" and "died 2 time(s)" in raised.value.message
    assert str(child.runs[0]) in raised.value.message and "no heartbeat for 120 s" in raised.value.message


def test_a_child_ended_without_its_error_says_which_run_and_how() -> None:
    from prefect.states import Cancelled

    child = Child("c", "dualpath-tenant-apply/tenant-apply", {}, runs=[uuid4()], state=Cancelled(message="by hand"))
    with pytest.raises(RunFailed, match=f"child flow run {child.runs[0]} ended Cancelled: by hand"):
        child.result()
