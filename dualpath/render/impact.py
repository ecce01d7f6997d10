"""What users notice while a step runs, in words a stakeholder reads: from ``impact`` in dualpath.toml
when it says something about the table, else derived from the operation, its lock, rows and estimate."""

from __future__ import annotations

from dualpath.plan import Step
from dualpath.render.display import duration
from dualpath.render.inputs import DocInputs

DATA_OPS = frozenset({"update", "delete", "insert_select", "insert"})
_DOING = {"add_column": "the column is added", "drop_column": "the column is dropped",
          "drop_table": "the table is dropped", "create_index": "the index is built",
          "drop_index": "the index is dropped", "alter_column_type": "the column's type changes",
          "add_constraint": "the constraint is added and checked", "set_not_null": "NOT NULL is checked",
          "rename_column": "the column is renamed", "rename_table": "the table is renamed",
          "truncate": "the table is emptied", "set_default": "the default changes"}
_VERB = {"update": "updated", "delete": "deleted", "insert_select": "copied in", "insert": "inserted"}


def batch_size(inputs: DocInputs, step: Step) -> int | None:
    """The ``size=`` of the step's ``-- dualpath:batch`` directive (its first chunk), when batched."""
    change = inputs.change(step.version)
    if change is None:
        return None
    statements = change.forward if step.direction == "up" else (change.rollback or ())
    statement = next((s for s in statements if s.where == step.where), None)
    directive = statement.directive("batch") if statement is not None else None
    if directive is None:
        return None
    from dualpath.batching.spec import spec_of

    return spec_of(statement).size if statement is not None else None


def step_impact(inputs: DocInputs, step: Step) -> str:
    """One sentence per step: who waits, on what, for about how long, and why."""
    tables = ", ".join(step.tables) or "no table"
    said = "; ".join(inputs.settings.impact[t] for t in step.tables if t in inputs.settings.impact)
    derived = _derived(inputs, step, tables)
    return f"{derived} ({said})" if said else derived


def _derived(inputs: DocInputs, step: Step, tables: str) -> str:
    data = [op for op in step.operations if op in DATA_OPS]
    if data and step.rows:
        verb = _VERB.get(data[0], "changed")
        size = batch_size(inputs, step)
        if size:
            return (f"writes to {tables} may slow down for about {duration(step.seconds)} while "
                    f"{step.rows:,} rows are {verb} in batches of {size:,}; reads continue")
        return (f"writes to the {step.rows:,} rows of {tables} being {verb} wait for about "
                f"{duration(step.seconds)} (one transaction); other rows and reads continue")
    if inputs.target is not None and step.tables and not any(inputs.rows_of(t) for t in step.tables):
        return f"nothing users notice: {tables} is new or empty"
    doing = next((_DOING[op] for op in step.operations if op in _DOING), "the statement runs")
    lock_timeout = duration(inputs.settings.safety.lock_timeout_ms / 1000)
    if step.blocks == "reads and writes":
        text = (f"reads and writes on {tables} pause for about {duration(step.seconds)} while {doing}; "
                f"behind a long transaction they wait at most the lock timeout ({lock_timeout}) per attempt")
    elif step.blocks == "writes":
        text = f"writes to {tables} wait for about {duration(step.seconds)} while {doing}; reads continue"
    else:
        text = f"nothing users notice: {doing} without blocking reads or writes"
    if any(op in ("drop_column", "drop_table", "rename_column", "rename_table") for op in step.operations):
        text += "; code that still uses the old name fails from then on"
    return text
