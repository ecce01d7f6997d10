"""PostgreSQL statements → Ops, read from pglast's parse tree (the server's own grammar)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pglast import ast
from pglast.enums import AlterTableType as AT
from pglast.enums import ConstrType as CT
from pglast.enums import ObjectType as OT
from pglast.parser import ParseError

from dualpath.risk.model import Op
from dualpath.risk.ops import SqlSyntaxError
from dualpath.risk.ops.pgjson import parse_statements
from dualpath.risk.ops.pgnodes import (
    add_column_variant,
    bound_of,
    column_facts,
    dotted,
    dropped_name,
    is_volatile,
    option_on,
    restart_value,
    table_name,
    type_of,
    using_of,
    walk,
)
from dualpath.risk.ops.pgtruth import pg_always_true

TIMEOUTS = {"lock_timeout", "statement_timeout", "idle_in_transaction_session_timeout"}


LOCK_MODES = {1: "ACCESS SHARE", 2: "ROW SHARE", 3: "ROW EXCLUSIVE", 4: "SHARE UPDATE EXCLUSIVE",
              5: "SHARE", 6: "SHARE ROW EXCLUSIVE", 7: "EXCLUSIVE", 8: "ACCESS EXCLUSIVE"}


_DML_IN_BODY = re.compile(r"\b(update\s+[\w\"]|delete\s+from|insert\s+into|truncate\s)", re.I)


# comments and RAISE messages may mention "update ..." without changing data
_NOT_DML = re.compile(r"--[^\n]*|/\*.*?\*/|\bRAISE\b[^;]*", re.I | re.S)


def extract(text: str, family: str = "postgresql") -> list[Op]:
    try:
        nodes = parse_statements(text)
    except ParseError as exc:
        offset = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else None
        raise SqlSyntaxError(str(exc.args[0]) if exc.args else str(exc), offset) from None
    ops: list[Op] = []
    for node in nodes:
        handler = _HANDLERS.get(type(node).__name__)
        ops.extend(handler(node) if handler else [Op(kind="other", attrs={"node": type(node).__name__})])
    return ops


def constraint_op(table: str, con: Any) -> Op:
    kinds = {CT.CONSTR_CHECK: "check", CT.CONSTR_FOREIGN: "foreign", CT.CONSTR_UNIQUE: "unique",
             CT.CONSTR_PRIMARY: "primary", CT.CONSTR_EXCLUSION: "exclude"}
    kind = kinds.get(con.contype, "other")
    not_valid = bool(con.skip_validation)
    variant = kind
    if kind in ("check", "foreign") and not_valid:
        variant = f"{kind}_not_valid"
    if kind in ("unique", "primary") and con.indexname:
        variant = "using_index"
    attrs: dict[str, Any] = {"type": kind, "not_valid": not_valid, "using_index": con.indexname}
    if kind == "check" and isinstance(con.raw_expr, ast.NullTest) and isinstance(con.raw_expr.arg, ast.ColumnRef):
        if con.raw_expr.nulltesttype == 1:  # IS NOT NULL
            attrs["not_null_column"] = dotted(con.raw_expr.arg.fields)
    if kind == "foreign":
        attrs["references"] = table_name(con.pktable)
    name = str(con.conname).lower() if con.conname else None
    return Op("add_constraint", table, name, variant, attrs)


def on_alter_table(node: Any) -> list[Op]:
    if node.objtype in (OT.OBJECT_INDEX, OT.OBJECT_MATVIEW) and any(
            cmd.subtype == AT.AT_SetTableSpace for cmd in node.cmds or ()):
        # copied to the new tablespace under ACCESS EXCLUSIVE; every query planned on its table waits for an index
        return [Op("set_tablespace", table_name(node.relation), attrs={"objtype": node.objtype.name[7:].lower()})]
    if node.objtype not in (OT.OBJECT_TABLE, OT.OBJECT_FOREIGN_TABLE):
        return [Op("alter_other", None, attrs={"objtype": str(node.objtype)})]
    table = table_name(node.relation)
    ops = [on_alter_cmd(table, cmd) for cmd in node.cmds or ()]
    return ops + references(table, [op.get("references") for op in ops]) + partitions(ops)


def partitions(ops: list[Op]) -> list[Op]:
    """ATTACH/DETACH PARTITION also lock the partition itself, not only the partitioned table."""
    found = []
    for op in ops:
        if op.kind in ("attach_partition", "detach_partition") and op.name:
            variant = op.kind.split("_")[0] + ("_concurrent" if op.get("concurrent") else "")
            found.append(Op("partition_table", op.name, variant=variant,
                            attrs={"parent": op.table, "bound": op.get("bound")}))
    return found


def references(table: str, referenced: list[str | None]) -> list[Op]:
    """A foreign key also locks the table it references (its triggers are added there), once per table."""
    seen: list[str] = []
    for name in referenced:
        if name and name not in seen:
            seen.append(name)
    return [Op("reference_table", name, attrs={"by": table}) for name in seen]


def on_alter_cmd(table: str, cmd: Any) -> Op:
    sub = cmd.subtype
    col = str(cmd.name).lower() if cmd.name else None
    if sub == AT.AT_AddColumn:
        facts = column_facts(cmd.def_)
        return Op("add_column", table, facts["column"], add_column_variant(facts), facts)
    if sub == AT.AT_AddConstraint:
        return constraint_op(table, cmd.def_)
    if sub == AT.AT_AlterColumnType:
        return Op("alter_column_type", table, col, attrs={"column": col, **type_of(cmd.def_.typeName),
                                                          "using": using_of(col, cmd.def_),
                                                          "collate": cmd.def_.collClause is not None})
    if sub == AT.AT_SetIdentity and any(d.defname == "restart" for d in cmd.def_ or ()):
        return Op("restart_sequence", table, col, attrs={"column": col, "restart": restart_value(cmd.def_)})
    if sub == AT.AT_ColumnDefault:
        default = "set_default" if cmd.def_ is not None else "drop_default"
        return Op(default, table, col, attrs={"column": col, "volatile_default": is_volatile(cmd.def_)})
    if sub in (AT.AT_DetachPartition, AT.AT_AttachPartition):
        partition = "detach_partition" if sub == AT.AT_DetachPartition else "attach_partition"
        concurrent = bool(getattr(cmd.def_, "concurrent", False))
        return Op(partition, table, table_name(cmd.def_.name), "concurrent" if concurrent else "",
                  {"concurrent": concurrent, "bound": bound_of(cmd.def_.bound)})
    kind = _SIMPLE_SUBTYPES.get(sub)
    if kind is None and "Trig" in sub.name:
        kind = "disable_trigger" if sub.name.startswith("AT_Disable") else "enable_trigger"
    return Op(kind or "alter_other", table, col or cmd.name,
              attrs={"column": col, "subtype": sub.name, "cascade": cmd.behavior == 1})


_SIMPLE_SUBTYPES = {
    AT.AT_DropColumn: "drop_column", AT.AT_SetNotNull: "set_not_null", AT.AT_DropNotNull: "drop_not_null",
    AT.AT_ValidateConstraint: "validate_constraint", AT.AT_DropConstraint: "drop_constraint",
    AT.AT_SetTableSpace: "set_tablespace", AT.AT_SetLogged: "set_logged", AT.AT_SetUnLogged: "set_logged",
    AT.AT_SetAccessMethod: "set_access_method", AT.AT_AddIdentity: "add_identity",
    AT.AT_SetStatistics: "set_statistics", AT.AT_SetStorage: "set_storage",
}


def on_create(node: Any) -> list[Op]:
    table = table_name(node.relation)
    columns = [column_facts(e) for e in node.tableElts or () if isinstance(e, ast.ColumnDef)]
    keys = [table_name(e.pktable) for e in node.tableElts or ()
            if isinstance(e, ast.Constraint) and e.contype == CT.CONSTR_FOREIGN]
    return [Op("create_table", table, attrs={
        "columns": columns, "if_not_exists": bool(node.if_not_exists),
        "partition_of": bool(node.partbound)})] + references(table, [c["references"] for c in columns] + keys)


def on_index(node: Any) -> list[Op]:
    name = str(node.idxname).lower() if node.idxname else None
    return [Op("create_index", table_name(node.relation), name, "concurrent" if node.concurrent else "",
               {"concurrent": bool(node.concurrent), "unique": bool(node.unique),
                "if_not_exists": bool(node.if_not_exists)})]


_DROP_KINDS = {OT.OBJECT_TABLE: "drop_table", OT.OBJECT_INDEX: "drop_index", OT.OBJECT_SCHEMA: "drop_schema",
               OT.OBJECT_VIEW: "drop_view", OT.OBJECT_MATVIEW: "drop_view"}


def on_drop(node: Any) -> list[Op]:
    kind = _DROP_KINDS.get(node.removeType, "drop_other")
    ops = []
    for obj in node.objects or ():
        name = dropped_name(obj)
        ops.append(Op(kind, name if kind == "drop_table" else None, name,
                      "concurrent" if node.concurrent else "",
                      {"concurrent": bool(node.concurrent), "if_exists": bool(node.missing_ok),
                       "cascade": node.behavior == 1, "objtype": node.removeType.name[7:].lower()}))
    return ops


_RENAMES = {OT.OBJECT_TABLE: "rename_table", OT.OBJECT_COLUMN: "rename_column", OT.OBJECT_INDEX: "rename_index",
            OT.OBJECT_TABCONSTRAINT: "rename_constraint"}


def on_rename(node: Any) -> list[Op]:
    kind = _RENAMES.get(node.renameType, "rename_other")
    table = table_name(node.relation) if node.relation is not None else None
    name = str(node.subname or "").lower() or table or dropped_name(node.object)
    return [Op(kind, table, name, attrs={"new_name": str(node.newname).lower(),
                                         "objtype": node.renameType.name[7:].lower()})]


def on_reindex(node: Any) -> list[Op]:
    concurrent = option_on(node.params, "concurrently")
    name = table_name(node.relation) if node.relation is not None else str(node.name or "").lower()
    return [Op("reindex", None, name, "concurrent" if concurrent else "",
               {"concurrent": concurrent, "target": node.kind.name.split("_")[-1].lower()})]


def on_vacuum(node: Any) -> list[Op]:
    full = node.is_vacuumcmd and option_on(node.options, "full")
    rels: list[str | None] = [table_name(r.relation) for r in node.rels or ()] or [None]
    kind = "vacuum_full" if full else "vacuum" if node.is_vacuumcmd else "analyze"  # ANALYZE runs in a transaction
    return [Op(kind, rel) for rel in rels]


def on_dml(kind: str) -> Callable[[Any], list[Op]]:
    def handle(node: Any) -> list[Op]:
        where = node.whereClause
        return [Op(kind, table_name(node.relation), attrs={
            "has_where": where is not None, "always_true": where is not None and pg_always_true(where)})]
    return handle


def on_insert(node: Any) -> list[Op]:
    select = node.selectStmt
    from_select = isinstance(select, ast.SelectStmt) and bool(select.fromClause)
    return [Op("insert_select" if from_select else "insert", table_name(node.relation))]


def on_alter_sequence(node: Any) -> list[Op]:
    name = table_name(node.sequence)
    if any(d.defname == "restart" for d in node.options or ()):
        return [Op("restart_sequence", None, name, attrs={"restart": restart_value(node.options)})]
    return [Op("alter_sequence", None, name)]


def on_select(node: Any) -> list[Op]:
    """``SELECT setval('seq', n)`` moves a sequence like ALTER SEQUENCE ... RESTART WITH n + 1;
    ``SELECT set_config('lock_timeout', '0', false)`` is a SET."""
    ops = [op for call in walk(node.targetList) if (op := set_config_op(call)) is not None]
    for call in walk(node.targetList):
        if isinstance(call, ast.FuncCall) and dotted(call.funcname).split(".")[-1] == "setval":
            args = list(call.args or ())
            name = args[0].val.sval if args and isinstance(args[0], ast.A_Const) and \
                isinstance(args[0].val, ast.String) else None
            value = args[1].val.ival if len(args) > 1 and isinstance(args[1], ast.A_Const) and \
                isinstance(args[1].val, ast.Integer) else None
            called = not (len(args) > 2 and isinstance(args[2], ast.A_Const) and
                          getattr(args[2].val, "boolval", True) is False)
            if name and value is not None:  # setval(s, max(id)) resynchronises upwards: not judged
                restart = int(value) + (1 if called else 0)
                ops.append(Op("restart_sequence", None, str(name).lower(), attrs={"restart": restart, "setval": True}))
    return ops or [Op("other", attrs={"node": "SelectStmt"})]


def set_config_op(call: Any) -> Op | None:
    """set_config() of a timeout with constant arguments, as the SET it stands for."""
    if not (isinstance(call, ast.FuncCall) and dotted(call.funcname).split(".")[-1] == "set_config"):
        return None
    args = [getattr(a.val, "sval", None) if isinstance(a, ast.A_Const) else None for a in call.args or ()]
    if len(args) < 2 or str(args[0]).lower() not in TIMEOUTS or args[1] is None:
        return None
    return Op("set_timeout", None, str(args[0]).lower(), attrs={"value": args[1], "local": None})


def on_do(node: Any) -> list[Op]:
    body = next((str(d.arg.sval) for d in node.args or () if d.defname == "as"), "")
    return [Op("do_block", attrs={"dml": bool(_DML_IN_BODY.search(_NOT_DML.sub(" ", body)))})]


def domain_constrained(node: Any) -> bool:
    """CHECK or NOT NULL on a new domain; a DEFAULT constrains nothing."""
    return any(c.contype in (CT.CONSTR_CHECK, CT.CONSTR_NOTNULL) for c in node.constraints or ())


def on_set(node: Any) -> list[Op]:
    name = str(node.name or "").lower()
    value = next((a.val for a in node.args or () if isinstance(a, ast.A_Const)), None)
    raw = getattr(value, "ival", None)
    if raw is None:
        raw = getattr(value, "sval", None)
    kind = "set_timeout" if name in TIMEOUTS else "set"
    return [Op(kind, None, name, attrs={"value": str(raw) if raw is not None else None, "local": node.is_local})]


def on_transaction(node: Any) -> list[Op]:
    # begin, start, commit, rollback, savepoint, release, rollback_to, prepare, commit_prepared, ...
    return [Op("transaction", None, node.kind.name.removeprefix("TRANS_STMT_").lower())]


def on_lock(node: Any) -> list[Op]:
    mode = LOCK_MODES.get(node.mode, "ACCESS EXCLUSIVE")
    return [Op("lock_table", table_name(r), variant=mode, attrs={"mode": mode}) for r in node.relations]


_HANDLERS: dict[str, Callable[[Any], list[Op]]] = {
    "AlterTableStmt": on_alter_table,
    "CreateStmt": on_create,
    "CreateTableAsStmt": lambda n: [Op("create_table_as", table_name(n.into.rel), attrs={
        "objtype": "matview" if n.objtype == OT.OBJECT_MATVIEW else "table"})],
    "IndexStmt": on_index,
    "DropStmt": on_drop,
    "DropdbStmt": lambda n: [Op("drop_database", None, str(n.dbname).lower())],
    "RenameStmt": on_rename,
    "TruncateStmt": lambda n: [Op("truncate", table_name(r), attrs={"cascade": n.behavior == 1})
                               for r in n.relations],
    "ReindexStmt": on_reindex,
    "VacuumStmt": on_vacuum,
    "ClusterStmt": lambda n: [Op("cluster", table_name(n.relation) if n.relation else None)],
    "RefreshMatViewStmt": lambda n: [Op("refresh_matview", table_name(n.relation), None,
                                        "concurrent" if n.concurrent else "")],
    "LockStmt": on_lock,
    "UpdateStmt": on_dml("update"),
    "DeleteStmt": on_dml("delete"),
    "InsertStmt": on_insert,
    "DoStmt": on_do,
    "SelectStmt": on_select,
    "VariableSetStmt": on_set,
    "TransactionStmt": on_transaction,
    "AlterEnumStmt": lambda n: [Op("alter_enum_add_value" if n.newVal and not n.oldVal else "rename_enum_value",
                                   None, dotted(n.typeName), attrs={"old": n.oldVal, "new": n.newVal})],
    "AlterSeqStmt": on_alter_sequence,
    "CreateDomainStmt": lambda n: [Op("create_domain", None, dotted(n.domainname),
                                      attrs={"has_constraint": domain_constrained(n)})],
    "AlterDomainStmt": lambda n: [Op("alter_domain_add_constraint" if n.subtype == "C" else "alter_domain",
                                     None, dotted(n.typeName))],
    "CreateFunctionStmt": lambda n: [Op("create_routine", None, dotted(n.funcname))],
    "CreateTrigStmt": lambda n: [Op("create_routine", table_name(n.relation), str(n.trigname).lower())],
    "CreateSeqStmt": lambda n: [Op("create_other", None, table_name(n.sequence), attrs={"objtype": "sequence"})],
    "ViewStmt": lambda n: [Op("create_other", None, table_name(n.view), attrs={"objtype": "view"})],
    "CreateEnumStmt": lambda n: [Op("create_other", None, dotted(n.typeName), attrs={"objtype": "type"})],
    "CreateSchemaStmt": lambda n: [Op("create_other", None, str(n.schemaname).lower(),
                                      attrs={"objtype": "schema"})],
    "CompositeTypeStmt": lambda n: [Op("create_other", None, table_name(n.typevar), attrs={"objtype": "type"})],
    "CreateRangeStmt": lambda n: [Op("create_other", None, dotted(n.typeName), attrs={"objtype": "type"})],
    "CreateExtensionStmt": lambda n: [Op("create_other", None, str(n.extname).lower(),
                                         attrs={"objtype": "extension"})],
    "CreateRoleStmt": lambda n: [Op("create_other", None, str(n.role).lower(), attrs={"objtype": "role"})],
    "DropRoleStmt": lambda n: [Op("drop_other", None, str(r.rolename or "").lower(), attrs={"objtype": "role"})
                               for r in n.roles or ()],
    "CreatedbStmt": lambda n: [Op("create_other", None, str(n.dbname).lower(), attrs={"objtype": "database"})],
}
