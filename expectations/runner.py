"""Run invariant and project suites on one database with an ephemeral GX context.

One table asset and one suite per table; every expectation carries the ref of what it checks,
so results (which GX returns in its own order) are matched back without guessing.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import great_expectations as gx
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.expectations.expectation import Expectation
from sqlalchemy.pool import NullPool

from dualpath.engines import open_engine
from dualpath.expectations.build import REF, build_expectation
from dualpath.expectations.project import BoundSuite
from dualpath.urls import parse_url, redact, reveal, safe_url
from dualpath.validation.baseline import Baseline, checksum_columns
from dualpath.validation.invariants import Invariant
from dualpath.validation.results import Outcome, ValidationResult

# GX's data source per backend: PostgreSQL has its own, MySQL/MariaDB go through plain SQLAlchemy.
_ADD_SOURCE = {"postgresql": "add_postgres", "mysql": "add_sql", "sqlite": "add_sqlite"}
_EXPECTED = {"not_null": "no NULLs", "unique": "no duplicates", "foreign_key": "no orphan rows",
             "backfill_matches": "no mismatches in the sample"}
_GX_KWARGS_NOISE = {"batch_id", "column", "column_list", "result_format", "unexpected_rows_query"}


def check(url: str, invariants: Iterable[Invariant], baseline: Baseline, *, suites: Sequence[BoundSuite] = (),
          tenant: str | None = None, sample_size: int = 1000, data_docs_dir: Path | None = None) -> ValidationResult:
    """Evaluate ``invariants`` against ``baseline`` and run the bound project suites; never raises on a failure."""
    started = time.monotonic()
    wanted = list(invariants)
    engine = open_engine(url)
    by_table = group_expectations(wanted, baseline, suites, engine.quote_ident, sample_size)
    outcomes: list[Outcome] = []
    refs = {inv.ref: inv for inv in wanted}
    with borrowed_context(data_docs_dir) as context:
        # pool-less on a server: GX's engines (the data source's and its execution engine's, two) kept their
        # pooled connections until garbage collection, idle connections that added up across a fan-out
        # (SQLite: GX pins its own StaticPool, and a file holds no server connection)
        pooling = {} if engine.name == "sqlite" else {"kwargs": {"poolclass": NullPool}}
        source = getattr(context.data_sources, _ADD_SOURCE[engine.name])(
            name="dualpath", connection_string=reveal(parse_url(url)), **pooling)
        try:
            for table, expectations in by_table.items():
                outcomes += run_table(context, source, table, expectations, refs)
        finally:
            source.get_engine().dispose()
            source.get_execution_engine().engine.dispose()
        if data_docs_dir is not None:
            context.build_data_docs(site_names=["dualpath"])  # not GX's default site in a temp dir
    outcomes += compare_checksums(url, [i for i in wanted if i.kind == "checksum_unchanged"], baseline)
    return ValidationResult(target=safe_url(engine.url), tenant=tenant, passed=all(o.success for o in outcomes),
                            seconds=round(time.monotonic() - started, 3), outcomes=outcomes)


class _Contexts(threading.local):
    context: Any = None


_CONTEXTS = _Contexts()  # one per thread: a context is not safe to share between the task threads
CONTEXTS_MADE = [0]  # contexts created (tests count reuse with it)


@contextlib.contextmanager
def borrowed_context(data_docs_dir: Path | None) -> Iterator[Any]:
    """The thread's ephemeral GX context, emptied after each use (its data source, suites and validation
    definitions are one tenant's); a fresh one when data docs are built, which configure their own site.
    A context that cannot be emptied is dropped, not reused."""
    if data_docs_dir is not None:
        CONTEXTS_MADE[0] += 1
        yield make_context(data_docs_dir)
        return
    if _CONTEXTS.context is None:
        CONTEXTS_MADE[0] += 1
        _CONTEXTS.context = make_context(None)
    context = _CONTEXTS.context
    try:
        yield context
    finally:
        try:
            empty_context(context)
        except Exception:  # noqa: BLE001 - a half-emptied context must not leak into the next tenant
            _CONTEXTS.context = None


def empty_context(context: Any) -> None:
    for definition in list(context.validation_definitions.all()):
        context.validation_definitions.delete(name=definition.name)
    for suite in list(context.suites.all()):
        context.suites.delete(name=suite.name)
    for name in list(context.data_sources.all()):
        context.data_sources.delete(name=name)


def make_context(data_docs_dir: Path | None) -> Any:
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    if data_docs_dir is None:
        # An ephemeral context keeps its config in memory, yet GX renders all of it to YAML into an in-memory
        # store on every data source, asset and batch definition added, and never reads it back: a third of
        # a tenant's validation (measured, 1,000-tenant fan-out). Data docs contexts keep GX's own saving.
        setattr(context.variables, "save", _kept_in_memory)  # noqa: B010 - an instance's method, on purpose
    if data_docs_dir is not None:
        context.add_data_docs_site(site_name="dualpath", site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(data_docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        })
    return context


def _kept_in_memory() -> None:
    """DataContextVariables.save of a context whose config lives only in memory: nothing to write."""


def group_expectations(invariants: list[Invariant], baseline: Baseline, suites: Sequence[BoundSuite],
                       quote: Any, sample_size: int) -> dict[str, list[Expectation]]:
    """Table → expectations: built-in ones first, then the project suites bound to it."""
    by_table: dict[str, list[Expectation]] = {}
    for inv in invariants:
        expectation = build_expectation(inv, baseline, quote, sample_size)
        if expectation is not None:
            by_table.setdefault(inv.table, []).append(expectation)
    for bound in suites:
        for i, expectation in enumerate(bound.suite.expectations()):
            expectation.meta = {**(expectation.meta or {}), REF: f"suite:{bound.suite.name}:{i}"}
            by_table.setdefault(bound.table, []).append(expectation)
    return by_table


def run_table(context: Any, source: Any, table: str, expectations: list[Expectation],
              refs: dict[str, Invariant]) -> list[Outcome]:
    try:
        asset = source.add_table_asset(name=table, table_name=table)
    except Exception as exc:  # GX checks the table exists when the asset is added
        return [failed_outcome(e, table, f"table cannot be read: {redact(str(exc))[:200]}", refs)
                for e in expectations]
    batch = asset.add_batch_definition_whole_table("whole table")
    suite = context.suites.add(gx.ExpectationSuite(name=f"dualpath {table}"))
    for expectation in expectations:
        suite.add_expectation(expectation)
    run = context.validation_definitions.add(gx.ValidationDefinition(name=f"dualpath {table}", data=batch, suite=suite))
    result = run.run(result_format="SUMMARY")
    return [outcome_of(r, table, refs) for r in result.results]


def outcome_of(r: Any, table: str, refs: dict[str, Invariant]) -> Outcome:
    config = r.expectation_config
    ref = str((config.meta or {}).get(REF, ""))
    inv = refs.get(ref)
    kwargs = dict(config.kwargs)
    result = dict(r.result or {})
    error = raised(r.exception_info)
    return Outcome(expectation=config.type, table=table, column=column_of(kwargs, inv),
                   success=bool(r.success) and error is None, observed=observed_of(result),
                   expected=expected_of(inv, kwargs), source=inv.kind if inv else ref.rsplit(":", 1)[0],
                   why=inv.why if inv else "", error=error)


def failed_outcome(expectation: Expectation, table: str, error: str, refs: dict[str, Invariant]) -> Outcome:
    ref = str((expectation.meta or {}).get(REF, ""))
    inv = refs.get(ref)
    kwargs = expectation.configuration.kwargs
    return Outcome(expectation.expectation_type, table, column_of(kwargs, inv), False, None, expected_of(inv, kwargs),
                   inv.kind if inv else ref.rsplit(":", 1)[0], inv.why if inv else "", error)


def column_of(kwargs: dict[str, Any], inv: Invariant | None) -> str | None:
    """The column an outcome is about; unexpected-rows queries name none, their invariant does."""
    if inv is not None and inv.columns and not kwargs.get("column") and not kwargs.get("column_list"):
        return ",".join(inv.columns)
    if kwargs.get("column"):
        return str(kwargs["column"])
    return ",".join(kwargs["column_list"]) if kwargs.get("column_list") else None


def observed_of(result: dict[str, Any]) -> Any:
    """The observed value; counts come back as floats from MariaDB, so whole floats become ints."""
    value = result.get("observed_value")
    if value is None and "unexpected_count" in result:
        examples = result.get("partial_unexpected_list") or []
        value = f"{result['unexpected_count']} unexpected" + (f", e.g. {examples[:5]}" if examples else "")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def expected_of(inv: Invariant | None, kwargs: dict[str, Any]) -> Any:
    if "value" in kwargs:
        return kwargs["value"]
    if "min_value" in kwargs or "max_value" in kwargs:
        return f"{kwargs.get('min_value')}..{kwargs.get('max_value')}"
    if inv is not None:
        return _EXPECTED.get(inv.kind)
    rest = {k: v for k, v in kwargs.items() if k not in _GX_KWARGS_NOISE}
    return rest or None


def raised(info: Any) -> str | None:
    """GX's exception info: one dict, or a dict of them per metric."""
    if not isinstance(info, dict):
        return None
    found = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    for item in found:
        if item.get("raised_exception"):
            return redact(str(item.get("exception_message") or "the expectation raised"))[:300]
    return None


def compare_checksums(url: str, invariants: list[Invariant], baseline: Baseline) -> list[Outcome]:
    """Columns a backfill must not alter: same sha256 over (key, value) in key order as before."""
    if not invariants:
        return []
    engine = open_engine(url)
    with engine.connect() as conn:
        now = checksum_columns(conn, invariants)
    return [Outcome("dualpath_column_checksum_unchanged", inv.table, inv.columns[0],
                    now.get(inv.ref) == baseline.checksums.get(inv.ref), observed=now.get(inv.ref, "")[:12],
                    expected=baseline.checksums.get(inv.ref, "")[:12], source=inv.kind, why=inv.why)
            for inv in invariants]
