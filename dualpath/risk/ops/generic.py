"""MySQL/MariaDB and SQLite statements → Ops, read from their lexemes (dualpath.sql.lexemes).

sqlglot turns many MySQL ALTER forms into opaque commands, so the few statement shapes
that matter for locking are read here directly, clause by clause.
"""

from __future__ import annotations

from collections.abc import Callable

from dualpath.risk.model import Op
from dualpath.risk.ops.alter import explicit_algorithm, on_alter_table
from dualpath.risk.ops.truth import tokens_always_true
from dualpath.sql.lexemes import Lexeme, index_of, lexemes, qualified, skip_words, split_top, top_words

TIMEOUTS = {"LOCK_WAIT_TIMEOUT", "INNODB_LOCK_WAIT_TIMEOUT", "MAX_EXECUTION_TIME", "MAX_STATEMENT_TIME",
            "BUSY_TIMEOUT"}
_ROUTINES = {"PROCEDURE", "FUNCTION", "TRIGGER", "EVENT"}
_OBJTYPES = {"SCHEMA": "database", "USER": "role", "ROLE": "role"}


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
