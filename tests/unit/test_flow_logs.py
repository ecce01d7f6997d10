"""Flow and task failures that dualpath explained: named by tenant, logged without a traceback."""

from __future__ import annotations

import logging
import sys

import pytest

from dualpath.errors import ConnectionFailed, UsageError
from dualpath.flows.logs import ExplainedFailureFilter, is_explained
from dualpath.tasks.common import names_tenant
from dualpath.tenants import TenantTarget


def record_for(exc: BaseException) -> logging.LogRecord:
    try:
        raise exc
    except BaseException:
        return logging.LogRecord("prefect.task_runs", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())


def test_an_explained_failure_loses_its_traceback_and_keeps_its_message() -> None:
    record = record_for(ConnectionFailed("cannot connect", hint="start it"))
    assert ExplainedFailureFilter().filter(record) is True
    assert record.exc_info is None and record.getMessage() == "failed"


def test_a_bug_keeps_its_traceback() -> None:
    record = record_for(KeyError("boom"))
    ExplainedFailureFilter().filter(record)
    assert record.exc_info is not None


def test_an_error_raised_while_handling_an_explained_one_counts_as_explained() -> None:
    try:
        try:
            raise UsageError("bad input")
        except UsageError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as outer:
        assert is_explained(outer)


def test_tenant_tasks_name_the_tenant_once_before_the_place() -> None:
    @names_tenant
    def fails(env: str, tenant: TenantTarget) -> None:
        raise UsageError("no such column", where="V5__x.sql:3")

    tenant = TenantTarget("c", "sqlite:///c.db")
    with pytest.raises(UsageError) as caught:
        fails("prod", tenant=tenant)
    assert str(caught.value).startswith("tenant c: V5__x.sql:3: no such column")

    @names_tenant
    def relabels(tenant: TenantTarget) -> None:
        fails("prod", tenant)  # an inner tenant task's error is not labelled twice

    with pytest.raises(UsageError) as again:
        relabels(tenant)
    assert again.value.where == "tenant c: V5__x.sql:3"
