"""Who owns a risk: ``[docs.owners]`` by table, then by the change's ticket, then by schema, then the
``owners`` roles (dba, database, service); else whoever owns the change's ticket."""

from __future__ import annotations

from dualpath.plan import Step
from dualpath.render.inputs import DocInputs

_ROLES = ("dba", "database", "service", "on-call")


def _schema_of(inputs: DocInputs, table: str) -> str | None:
    """The schema a table lives in: as written, else as the live schema qualifies it (``public.customers``)."""
    if "." in table:
        return table.rsplit(".", 1)[0]
    target = inputs.target
    names = set(target.sizes) | set(target.schema.columns if target.schema else {}) if target else set()
    known = {n.rsplit(".", 1)[0] for n in names if "." in n and n.rsplit(".", 1)[-1].lower() == table.lower()}
    return known.pop() if len(known) == 1 else None


def owner_for(inputs: DocInputs, step: Step | None) -> str:
    settings = inputs.settings
    owners = settings.docs.owners
    tables = step.tables if step else []
    for table in tables:
        bare = table.split(".")[-1]
        for name in (table, bare):
            if name in owners.tables:
                return owners.tables[name]
    change = inputs.planned(step.version) if step else None
    ticket = change.ticket if change else None
    if ticket and ticket in owners.tickets:
        return owners.tickets[ticket]
    for table in tables:
        schema = _schema_of(inputs, table)
        if schema in owners.schemas:
            return owners.schemas[schema]
    role = next((settings.owners[r] for r in _ROLES if r in settings.owners), None)
    if role:
        return role
    return f"owner of {ticket}" if ticket else "unassigned: set [docs.owners] in dualpath.toml"
