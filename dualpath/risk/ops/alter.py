"""MySQL/MariaDB and SQLite ALTER TABLE → Ops, clause by clause (the other statements: generic.py)."""

from __future__ import annotations

from dualpath.risk.model import Op
from dualpath.sql.lexemes import Lexeme, qualified, skip_words, split_top

_NOT_COLUMN = {"INDEX", "KEY", "UNIQUE", "PRIMARY", "FOREIGN", "CONSTRAINT", "FULLTEXT", "SPATIAL",
               "CHECK", "PARTITION"}
_PER_ROW = {"UUID", "RAND", "UUID_SHORT", "SYSDATE"}
_VOLATILE = {"UUID", "RAND", "NOW", "CURRENT_TIMESTAMP", "CURRENT_TIME", "CURRENT_DATE", "RANDOM",
             "LOCALTIME", "LOCALTIMESTAMP", "SYSDATE", "UUID_SHORT"}


def on_alter_table(tokens: list[Lexeme], family: str) -> list[Op]:
    i = skip_words(tokens, 1, "ONLINE", "IGNORE", "TABLE")
    if i >= len(tokens):
        return [Op("other")]
    table, j = qualified(tokens, i)
    options = explicit_algorithm(tokens)
    ops = []
    for clause in split_top(tokens[j:]):
        op = alter_clause(table, clause, family)
        if op is not None:
            ops.append(Op(op.kind, op.table, op.name, op.variant, {**op.attrs, **options}))
    if any(op.kind == "add_constraint" and op.variant == "primary" for op in ops):
        # DROP PRIMARY KEY, ADD PRIMARY KEY (...): the new key is built in place, nothing is copied
        ops = [Op(op.kind, op.table, op.name, "", op.attrs) if op.kind == "drop_constraint" and op.variant == "primary"
               else op for op in ops]
    return ops


def alter_clause(table: str, c: list[Lexeme], family: str) -> Op | None:
    w = [t.upper for t in c]
    head = w[0]
    if head in ("ALGORITHM", "LOCK"):
        return None
    if head == "ADD":
        return add_clause(table, c, w, family)
    if head == "DROP":
        return drop_clause(table, c, w)
    if head in ("MODIFY", "CHANGE"):
        i = skip_words(c, 1, "COLUMN")
        col = c[i].name
        definition = column_definition(c[i + 2:] if head == "CHANGE" else c[i + 1:])
        if head == "CHANGE" and i + 1 < len(c) and c[i + 1].name != col:
            return Op("rename_column", table, col, attrs={"new_name": c[i + 1].name, "column": col,
                                                           "type_change": True, "definition": definition})
        return Op("alter_column_type", table, col, attrs={"column": col, "redefine": True,
                                                          "definition": definition})
    if head == "ALTER":
        i = skip_words(c, 1, "COLUMN")
        col = c[i].name
        rest = " ".join(w[i + 1:])
        kind = {"SET DEFAULT": "set_default", "DROP DEFAULT": "drop_default", "SET NOT NULL": "set_not_null",
                "DROP NOT NULL": "drop_not_null"}.get(" ".join(w[i + 1:i + 3]) if "NOT" not in rest
                                                      else " ".join(w[i + 1:i + 4]))
        if kind is None and "TYPE" in w[i + 1:i + 4]:
            kind = "alter_column_type"
        return Op(kind or "alter_other", table, col, attrs={"column": col})
    if head == "RENAME":
        if len(w) > 1 and w[1] in ("COLUMN", "INDEX", "KEY"):
            kind = "rename_column" if w[1] == "COLUMN" else "rename_index"
            return Op(kind, table, c[2].name, attrs={"new_name": c[-1].name, "column": c[2].name})
        return Op("rename_table", table, table, attrs={"new_name": c[-1].name})
    if head == "CONVERT" or (head in ("CHARACTER", "CHARSET", "DEFAULT") and "CONVERT" in w):
        at = next((k + 1 for k, word in enumerate(w) if word in ("SET", "CHARSET") and k + 1 < len(c)), None)
        return Op("convert_charset", table, attrs={"charset": c[at].name if at is not None else None})
    if head in ("FORCE", "ENGINE", "ROW_FORMAT"):
        engine = c[-1].name if head == "ENGINE" and len(c) > 1 else None
        return Op("rebuild_table", table, attrs={"engine": engine})
    return Op("alter_other", table, attrs={"clause": head})


def column_definition(c: list[Lexeme]) -> dict[str, object]:
    """A MODIFY/CHANGE column definition: the type as COLUMN_TYPE spells it, and what else it states.

    MODIFY restates the whole column: what it leaves out (NOT NULL, a default) is gone afterwards.
    """
    if not c:
        return {"type": "", "nullable": True}
    parts, i = [c[0].text.lower()], 1
    if i < len(c) and c[i].text == "(":
        depth, args = 0, []
        for tok in c[i:]:
            i += 1
            depth += (tok.text == "(") - (tok.text == ")") if tok.kind == "punct" else 0
            if depth == 0:
                break
            if not (tok.text == "(" and depth == 1):
                args.append(tok.text)
        parts.append(f"({''.join(args)})")
    while i < len(c) and c[i].upper in ("UNSIGNED", "SIGNED", "ZEROFILL"):
        parts.append(f" {c[i].text.lower()}")
        i += 1
    w = [t.upper for t in c[i:]]
    charset = next((c[i + k + (2 if w[k] == "CHARACTER" else 1)].name for k in range(len(w))
                    if w[k] in ("CHARSET", "CHARACTER") and i + k + 1 < len(c)), None)
    not_null = any(w[k:k + 2] == ["NOT", "NULL"] for k in range(len(w)))
    return {"type": "".join(parts), "nullable": not not_null, "charset": charset,
            "auto_increment": "AUTO_INCREMENT" in w, "generated": "AS" in w or "GENERATED" in w,
            "position": "FIRST" in w or "AFTER" in w, "has_default": "DEFAULT" in w}


def add_clause(table: str, c: list[Lexeme], w: list[str], family: str) -> Op:
    i = 2 if len(w) > 1 and w[1] == "COLUMN" else 1
    if w[i] not in _NOT_COLUMN:
        return add_column(table, c, w, i, family)
    name = None
    if w[i] == "CONSTRAINT":
        if w[i + 1] not in _NOT_COLUMN:
            name = c[i + 1].name
            i += 1
        i += 1
    kind = w[i]
    if kind in ("INDEX", "KEY", "FULLTEXT", "SPATIAL"):
        idx_name = c[i + 1].name if i + 1 < len(c) and c[i + 1].kind != "punct" and w[i + 1] not in (
            "INDEX", "KEY") else None
        return Op("create_index", table, idx_name, {"FULLTEXT": "fulltext", "SPATIAL": "spatial"}.get(kind, ""))
    ctype = {"PRIMARY": "primary", "UNIQUE": "unique", "FOREIGN": "foreign", "CHECK": "check"}.get(kind, "other")
    attrs = {"type": ctype}
    if ctype == "foreign" and "REFERENCES" in w:
        attrs["references"] = c[w.index("REFERENCES") + 1].name
    if ctype == "unique" and name is None and i + 1 < len(c) and w[i + 1] not in ("KEY", "INDEX") \
            and c[i + 1].kind != "punct":
        name = c[i + 1].name
    return Op("add_constraint", table, name, ctype, attrs)


def add_column(table: str, c: list[Lexeme], w: list[str], i: int, family: str) -> Op:
    col = c[i].name
    rest = w[i + 1:]
    not_null = any(rest[k:k + 2] == ["NOT", "NULL"] for k in range(len(rest)))
    has_default = "DEFAULT" in rest
    volatile = False
    if has_default:
        after = c[i + 1 + rest.index("DEFAULT") + 1:]
        # SQLite refuses any non-constant default; MySQL/MariaDB store CURRENT_TIMESTAMP-like defaults in
        # the dictionary, but evaluate an expression (or UUID(), RAND()) per row by copying the table
        kinds = _VOLATILE if family == "sqlite" else _PER_ROW
        volatile = bool(after) and (after[0].upper in kinds or after[0].text == "(")
    stored = "STORED" in rest or "PERSISTENT" in rest or ("AS" in rest and "VIRTUAL" not in rest
                                                           and "GENERATED" in rest)
    facts = {"column": col, "not_null": not_null, "has_default": has_default, "volatile_default": volatile,
             "stored_generated": stored, "auto_increment": "AUTO_INCREMENT" in rest or "AUTOINCREMENT" in rest,
             "keyed": "PRIMARY" in rest or "UNIQUE" in rest, "positioned": "FIRST" in rest or "AFTER" in rest,
             "type": c[i + 1].name if i + 1 < len(c) else ""}
    return Op("add_column", table, col, column_variant(facts), facts)


def column_variant(f: dict[str, object]) -> str:
    if f["auto_increment"]:
        return "auto_increment"
    if f["stored_generated"]:
        return "stored_generated"
    if f["keyed"]:
        return "keyed"
    if f["not_null"] and not f["has_default"]:
        return "not_null_no_default"
    if f["volatile_default"]:
        return "volatile_default"
    return "positioned" if f["positioned"] else ""


def drop_clause(table: str, c: list[Lexeme], w: list[str]) -> Op:
    what = w[1] if len(w) > 1 else ""
    if what == "PRIMARY":
        return Op("drop_constraint", table, "primary", "primary", {"type": "primary"})
    if what in ("INDEX", "KEY"):
        return Op("drop_index", table, c[2].name)
    if what == "FOREIGN":
        return Op("drop_constraint", table, c[-1].name, attrs={"type": "foreign"})
    if what in ("CONSTRAINT", "CHECK"):
        return Op("drop_constraint", table, c[2].name)
    if what == "PARTITION":
        return Op("alter_other", table, attrs={"clause": "DROP PARTITION"})
    i = skip_words(c, 1, "COLUMN", "IF", "EXISTS")
    return Op("drop_column", table, c[i].name, attrs={"column": c[i].name})


def explicit_algorithm(tokens: list[Lexeme]) -> dict[str, str]:
    """ALGORITHM=... and LOCK=... written in the statement (MySQL refuses when it cannot honour them)."""
    found = {}
    for k, tok in enumerate(tokens[:-1]):
        if tok.upper in ("ALGORITHM", "LOCK") and k + 1 < len(tokens):
            value = tokens[k + 2] if tokens[k + 1].text == "=" and k + 2 < len(tokens) else tokens[k + 1]
            found[tok.upper.lower()] = value.upper
    return found
