"""MySQL/MariaDB and SQLite statements → Ops, read from their lexemes (dualpath.sql.lexemes).

sqlglot turns many MySQL ALTER forms into opaque commands, so the few statement shapes
that matter for locking are read here directly, clause by clause.
"""

from __future__ import annotations

from collections.abc import Callable

from dualpath.risk.model import Op
from dualpath.risk.ops.truth import tokens_always_true
from dualpath.sql.lexemes import Lexeme, lexemes, qualified, split_top, top_words

TIMEOUTS = {"LOCK_WAIT_TIMEOUT", "INNODB_LOCK_WAIT_TIMEOUT", "MAX_EXECUTION_TIME", "MAX_STATEMENT_TIME",
            "BUSY_TIMEOUT"}
_NOT_COLUMN = {"INDEX", "KEY", "UNIQUE", "PRIMARY", "FOREIGN", "CONSTRAINT", "FULLTEXT", "SPATIAL",
               "CHECK", "PARTITION"}
_ROUTINES = {"PROCEDURE", "FUNCTION", "TRIGGER", "EVENT"}
_OBJTYPES = {"SCHEMA": "database", "USER": "role", "ROLE": "role"}
_PER_ROW = {"UUID", "RAND", "UUID_SHORT", "SYSDATE"}
_VOLATILE = {"UUID", "RAND", "NOW", "CURRENT_TIMESTAMP", "CURRENT_TIME", "CURRENT_DATE", "RANDOM",
             "LOCALTIME", "LOCALTIMESTAMP", "SYSDATE", "UUID_SHORT"}


def extract(text: str, family: str = "mysql") -> list[Op]:
    """The ops of one statement as the splitter (dualpath.sql) cut it: a DELIMITER chunk is already
    split into the statements the server runs, so nothing here splits again."""
    return extract_one(lexemes(text, family), family)


def extract_one(tokens: list[Lexeme], family: str) -> list[Op]:
    if not tokens:
        return []
    words = [t.upper for t in tokens[:4]]
    for prefix, handler in _STATEMENTS:
        if words[: len(prefix)] == list(prefix):
            return handler(tokens, family)
    return [Op("other", attrs={"keyword": words[0]})]


def skip_words(tokens: list[Lexeme], i: int, *words: str) -> int:
    while i < len(tokens) and tokens[i].upper in words:
        i += 1
    return i


def index_of(tokens: list[Lexeme], word: str, start: int = 0) -> int:
    depth = 0
    for i in range(start, len(tokens)):
        tok = tokens[i]
        depth += (tok.text == "(") - (tok.text == ")") if tok.kind == "punct" else 0
        if depth == 0 and tok.upper == word:
            return i
    return -1


def on_create_table(tokens: list[Lexeme], family: str) -> list[Op]:
    i = skip_words(tokens, 1, "TEMPORARY", "TEMP", "TABLE", "IF", "NOT", "EXISTS")
    if i >= len(tokens):
        return [Op("other")]
    table, j = qualified(tokens, i)
    as_select = "SELECT" in top_words(tokens[j:])
    return [Op("create_table_as" if as_select else "create_table", table)]


def on_create_index(tokens: list[Lexeme], family: str) -> list[Op]:
    words = top_words(tokens)
    kind_word = words[1]
    on = index_of(tokens, "ON")
    if on < 0:
        return [Op("other")]
    name_at = skip_words(tokens, 1, "UNIQUE", "FULLTEXT", "SPATIAL", "INDEX", "IF", "NOT", "EXISTS")
    table, _ = qualified(tokens, on + 1)
    variant = {"FULLTEXT": "fulltext", "SPATIAL": "spatial"}.get(kind_word, "")
    return [Op("create_index", table, tokens[name_at].name, variant,
               {"unique": kind_word == "UNIQUE", **explicit_algorithm(tokens)})]


def object_name(tokens: list[Lexeme], i: int) -> str:
    """The name at ``i`` after IF [NOT] EXISTS: ``s.t``; a user's ``'flipr'@'%'`` is ``flipr``."""
    i = skip_words(tokens, i, "IF", "NOT", "EXISTS")
    if i >= len(tokens):
        return ""
    if tokens[i].kind == "string":
        return tokens[i].text[1:-1].lower()
    return qualified(tokens, i)[0]


def on_create_other(tokens: list[Lexeme], family: str) -> list[Op]:
    words = top_words(tokens)
    at = next((k for k, t in enumerate(tokens[:12]) if t.kind == "word" and t.upper in _ROUTINES | {"VIEW"}), -1)
    if at >= 0 and tokens[at].upper in _ROUTINES:
        table = None
        if tokens[at].upper == "TRIGGER" and (on := index_of(tokens, "ON")) > 0:
            table = qualified(tokens, on + 1)[0]
        return [Op("create_routine", table, object_name(tokens, at + 1))]
    if at >= 0:
        return [Op("create_other", None, object_name(tokens, at + 1), attrs={"objtype": "view"})]
    what = words[1] if len(words) > 1 else ""
    return [Op("create_other", None, object_name(tokens, 2) if len(tokens) > 2 else None,
               attrs={"objtype": _OBJTYPES.get(what, what.lower())})]


def on_drop(tokens: list[Lexeme], family: str) -> list[Op]:
    what = tokens[1].upper if len(tokens) > 1 else ""
    i = skip_words(tokens, 1, "TEMPORARY", "TABLE", "TABLES", "INDEX", "VIEW", "DATABASE", "SCHEMA",
                   "IF", "EXISTS")
    kind = {"TABLE": "drop_table", "TEMPORARY": "drop_table", "INDEX": "drop_index", "VIEW": "drop_view",
            "DATABASE": "drop_database", "SCHEMA": "drop_database"}.get(what, "drop_other")
    if kind == "drop_other" or i >= len(tokens):
        objtype = _OBJTYPES.get(what, what.lower())
        return [Op("drop_other", None, object_name(part, 0 if k else 2), attrs={"objtype": objtype})
                for k, part in enumerate(split_top(tokens)) if len(part) > (0 if k else 2)]
    if kind == "drop_index":
        on = index_of(tokens, "ON")
        table = qualified(tokens, on + 1)[0] if on > 0 else None
        return [Op(kind, table, tokens[i].name, attrs=explicit_algorithm(tokens))]
    names = [qualified(part, 0)[0] for part in split_top(tokens[i:]) if part[0].kind != "word"
             or part[0].upper not in ("CASCADE", "RESTRICT")]
    return [Op(kind, n if kind == "drop_table" else None, n) for n in names]


def on_rename_table(tokens: list[Lexeme], family: str) -> list[Op]:
    ops = []
    for part in split_top(tokens[2:]):
        old, j = qualified(part, 0)
        new = qualified(part, j + 1)[0] if j + 1 < len(part) else ""
        ops.append(Op("rename_table", old, old, attrs={"new_name": new}))
    return ops


def on_truncate(tokens: list[Lexeme], family: str) -> list[Op]:
    i = skip_words(tokens, 1, "TABLE")
    return [Op("truncate", qualified(tokens, i)[0], attrs={"cascade": False})]


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


def on_dml(kind: str) -> Callable[[list[Lexeme], str], list[Op]]:
    def handle(tokens: list[Lexeme], family: str) -> list[Op]:
        i = skip_words(tokens, 1, "LOW_PRIORITY", "QUICK", "IGNORE", "FROM", "OR", "REPLACE", "ROLLBACK",
                       "ABORT", "FAIL")
        table = qualified(tokens, i)[0] if i < len(tokens) else None
        words = top_words(tokens)
        return [Op(kind, table, attrs={"has_where": "WHERE" in words, "has_limit": "LIMIT" in words,
                                       "always_true": tokens_always_true(where_clause(tokens))})]
    return handle


def where_clause(tokens: list[Lexeme]) -> list[Lexeme]:
    """The tokens after a top-level WHERE, up to ORDER BY or LIMIT."""
    at = index_of(tokens, "WHERE")
    if at < 0:
        return []
    ends = [k for k in (index_of(tokens, "ORDER", at), index_of(tokens, "LIMIT", at)) if k > at]
    return tokens[at + 1: min(ends) if ends else len(tokens)]


def on_insert(tokens: list[Lexeme], family: str) -> list[Op]:
    i = skip_words(tokens, 1, "LOW_PRIORITY", "IGNORE", "INTO", "OR", "REPLACE", "ROLLBACK", "ABORT", "FAIL")
    table = qualified(tokens, i)[0] if i < len(tokens) else None
    words = [t.upper for t in tokens]
    from_select = "SELECT" in words and "FROM" in words[words.index("SELECT"):]
    return [Op("insert_select" if from_select else "insert", table)]


def on_set(tokens: list[Lexeme], family: str) -> list[Op]:
    i = skip_words(tokens, 1, "SESSION", "GLOBAL", "LOCAL", "PERSIST")
    if i >= len(tokens):
        return [Op("set")]
    name = tokens[i].text.lstrip("@").split(".")[-1].upper()
    value = tokens[i + 2].text if i + 2 < len(tokens) and tokens[i + 1].text in ("=", ":=") else None
    kind = "set_timeout" if name in TIMEOUTS else "set"
    return [Op(kind, None, name.lower(), attrs={"value": value})]


def on_pragma(tokens: list[Lexeme], family: str) -> list[Op]:
    name = tokens[1].name if len(tokens) > 1 else ""
    value = tokens[3].text if len(tokens) > 3 else None
    kind = "set_timeout" if name == "busy_timeout" else "set"
    return [Op(kind, None, name, attrs={"value": value})]


def on_lock_tables(tokens: list[Lexeme], family: str) -> list[Op]:
    ops = []
    for part in split_top(tokens[2:]):
        mode = "READ" if "READ" in [t.upper for t in part] else "WRITE"
        ops.append(Op("lock_table", part[0].name, variant=mode, attrs={"mode": mode}))
    return ops


def on_table_list(kind: str) -> Callable[[list[Lexeme], str], list[Op]]:
    def handle(tokens: list[Lexeme], family: str) -> list[Op]:
        i = skip_words(tokens, 1, "NO_WRITE_TO_BINLOG", "LOCAL", "TABLE")
        return [Op(kind, qualified(p, 0)[0]) for p in split_top(tokens[i:])] or [Op(kind)]
    return handle


def on_vacuum(tokens: list[Lexeme]) -> Op:
    """SQLite's VACUUM INTO writes a compacted copy to another file and leaves the database as it is."""
    if "INTO" in [t.upper for t in tokens]:
        return Op("other", attrs={"keyword": "VACUUM INTO"})
    return Op("vacuum")


def on_transaction(tokens: list[Lexeme], family: str) -> list[Op]:
    word = tokens[0].upper
    if word == "ROLLBACK" and "TO" in [t.upper for t in tokens[1:3]]:
        return [Op("transaction", None, "rollback_to")]  # back to a savepoint: the transaction stays open
    return [Op("transaction", None, "begin" if word in ("BEGIN", "START") else word.lower())]


_STATEMENTS: list[tuple[tuple[str, ...], Callable[[list[Lexeme], str], list[Op]]]] = [
    (("CREATE", "TABLE"), on_create_table),
    (("CREATE", "TEMPORARY", "TABLE"), on_create_table),
    (("CREATE", "TEMP", "TABLE"), on_create_table),
    (("CREATE", "INDEX"), on_create_index),
    (("CREATE", "UNIQUE", "INDEX"), on_create_index),
    (("CREATE", "FULLTEXT", "INDEX"), on_create_index),
    (("CREATE", "SPATIAL", "INDEX"), on_create_index),
    (("CREATE",), on_create_other),
    (("DROP",), on_drop),
    (("RENAME", "TABLE"), on_rename_table),
    (("TRUNCATE",), on_truncate),
    (("ALTER", "TABLE"), on_alter_table),
    (("ALTER", "ONLINE"), on_alter_table),
    (("ALTER", "IGNORE"), on_alter_table),
    (("UPDATE",), on_dml("update")),
    (("DELETE",), on_dml("delete")),
    (("INSERT",), on_insert),
    (("REPLACE",), on_insert),
    (("SET",), on_set),
    (("PRAGMA",), on_pragma),
    (("LOCK", "TABLES"), on_lock_tables),
    (("LOCK", "TABLE"), on_lock_tables),
    (("OPTIMIZE",), on_table_list("optimize")),
    (("VACUUM",), lambda tokens, family: [on_vacuum(tokens)]),
    (("REINDEX",), lambda tokens, family: [Op("reindex", None, tokens[-1].name if len(tokens) > 1 else None)]),
    (("BEGIN",), on_transaction),
    (("START", "TRANSACTION"), on_transaction),
    (("COMMIT",), on_transaction),
    (("ROLLBACK",), on_transaction),
]
