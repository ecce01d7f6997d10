"""flows/fan_out.py without a server: the fan_out choice, and how a child's final state becomes the tenant's
result or error (a crash names the runs and never passes for applied)."""

from __future__ import annotations

from uuid import uuid4

import pytest

from dualpath.errors import InputError, RunFailed, UsageError
from dualpath.flows.fan_out import Child, Member, apply_children, check_fan_out, check_tenants_per_run
from dualpath.flows.outcomes import GroupFailed, group_failed, portable_error


def test_fan_out_is_one_of_two_and_a_typo_is_a_usage_error() -> None:
    assert check_fan_out("in-process") == "in-process" and check_fan_out("deployments") == "deployments"
    with pytest.raises(UsageError, match="fan_out='deployment' is not one of in-process, deployments"):
        check_fan_out("deployment")


def test_children_carry_the_tenant_name_and_never_its_url() -> None:
    children = apply_children(("prod", "dualpath.toml", "/srv/m"), ["a", "b"], "run-1", "7", None)
    assert [c.parameters["tenants"] for c in children] == [["a"], ["b"]]
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


def test_a_wave_goes_to_child_runs_in_groups_of_tenants_per_run() -> None:
    children = apply_children(("prod", None, "/srv/m"), ["a", "b", "c", "d", "e"], "run-1", None, None, per_run=2)
    assert [c.parameters["tenants"] for c in children] == [["a", "b"], ["c", "d"], ["e"]]
    assert children[0].where == "tenants a, b" and children[2].where == "tenant e"
    assert check_tenants_per_run(3) == 3
    with pytest.raises(UsageError, match="tenants_per_run=0 must be 1 or more"):
        check_tenants_per_run(0)


def _outcome(version: str) -> dict[str, object]:
    return {"applied": [version], "validation_result": None, "phases": []}


def test_each_member_of_a_failed_group_gets_its_own_outcome() -> None:
    """A run whose tenant c failed ends Failed; a and b read as applied, c raises its own error (file:line,
    hint and all), and the error crosses a pickle as the parent reads it from result storage."""
    import pickle

    from prefect.states import Failed

    boom = InputError("version 2 failed: boom on c", where="V2__x.sql:3", hint="fix it")
    failure = group_failed({"a": _outcome("1"), "b": _outcome("1"), "c": {"error": boom}})
    assert isinstance(failure, GroupFailed) and failure.where == "V2__x.sql:3" and failure.hint == "fix it"
    failure = pickle.loads(pickle.dumps(failure))
    child = Child("a, b, c", "dualpath-tenant-apply/tenant-apply", {"tenants": ["a", "b", "c"]}, runs=[uuid4()],
                  state=Failed(data=failure))
    assert Member(child, "a").result() == (["1"], None, [])
    with pytest.raises(InputError) as raised:
        Member(child, "c").result()
    assert str(raised.value) == str(boom)
    with pytest.raises(RunFailed, match="returned no outcome for this tenant"):
        Member(child, "z").result()


def test_the_groups_text_is_its_first_failure_and_names_the_others() -> None:
    failure = group_failed({"a": {"error": RunFailed("x broke", where="tenant a")}, "b": _outcome("1"),
                            "c": {"error": portable_error(KeyError("k"), "c")}})
    assert failure is not None and failure.message == "x broke (and 1 more of 3 tenants: c)"
    assert group_failed({"a": _outcome("1")}) is None
    assert portable_error(KeyError("k"), "c").where == "tenant c"


def test_a_crashed_group_fails_every_member() -> None:
    from prefect.states import Crashed

    child = Child("a, b", "dualpath-tenant-apply/tenant-apply", {"tenants": ["a", "b"]}, runs=[uuid4()],
                  state=Crashed(message="no heartbeat"), crashes=["no heartbeat"])
    for name in ("a", "b"):
        with pytest.raises(RunFailed, match="died 1 time"):
            Member(child, name).result()


def test_every_error_a_tenant_can_end_with_survives_the_trip_to_the_parent() -> None:
    """A group's failure travels through Prefect's result storage as a pickle: each kind of dualpath error a
    tenant's apply raises must come back whole (a validation failure with its result for the report)."""
    import pickle

    from dualpath.errors import ConnectionFailed, PrivilegeMissing, TargetRefused
    from dualpath.tenants.validation import ValidationFailed
    from dualpath.validation.results import ValidationResult

    result = ValidationResult(target="postgresql://db/a", tenant="a", passed=False)
    errors = [ValidationFailed("2 expectations failed", result=result, where="tenant a", hint="see the report"),
              TargetRefused("locked", where="tenant b"), ConnectionFailed("down", hint="start it"),
              PrivilegeMissing("no CREATE"), RunFailed("boom")]
    outcomes = {str(i): {"error": e} for i, e in enumerate(errors)}
    failure = pickle.loads(pickle.dumps(group_failed(outcomes)))
    back = [failure.outcomes[str(i)]["error"] for i in range(len(errors))]
    assert [type(e) for e in back] == [type(e) for e in errors]
    assert [str(e) for e in back] == [str(e) for e in errors]
    assert back[0].result == result
