"""Name what a statement is ("CREATE INDEX", "UPDATE") and whether it refuses a transaction."""

from __future__ import annotations

import re

from dualpath.errors import InputError
from dualpath.sql.tokens import PUNCT, WORD, Token, lex

_CREATE_MODIFIERS = {
    "OR", "REPLACE", "UNIQUE", "TEMP", "TEMPORARY", "UNLOGGED", "GLOBAL", "LOCAL", "CONSTRAINT",
    "RECURSIVE", "TRUSTED", "PROCEDURAL", "ONLINE", "OFFLINE", "FULLTEXT", "SPATIAL",
}
_OBJECT_PAIRS = {
    ("MATERIALIZED", "VIEW"), ("FOREIGN", "TABLE"), ("EVENT", "TRIGGER"), ("ACCESS", "METHOD"),
    ("USER", "MAPPING"), ("TEXT", "SEARCH"), ("FOREIGN", "DATA"), ("OPERATOR", "CLASS"),
    ("OPERATOR", "FAMILY"), ("LARGE", "OBJECT"), ("DEFAULT", "PRIVILEGES"),
}
_DDL_VERBS = {"CREATE", "ALTER", "DROP"}
_TWO_WORD_VERBS = {"START", "REFRESH", "RENAME", "COMMENT", "SECURITY"}
_DML = {"SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "VALUES", "TABLE"}
_FALLBACK_WORD = re.compile(r"[A-Za-z_][\w$]*")


def significant_words(text: str) -> list[tuple[str, str]]:
    """(kind, upper-cased text) of the code tokens; never raises on broken SQL."""
    try:
        tokens: list[Token] = lex(text, file="<statement>", dialect=None)
    except InputError:
        return [(WORD, w.upper()) for w in _FALLBACK_WORD.findall(_strip_leading_comments(text))]
    return [(t.kind, text[t.start : t.end].upper()) for t in tokens if t.significant]


def _strip_leading_comments(text: str) -> str:
    return re.sub(r"\A(?:\s+|--[^\n]*|/\*.*?\*/)*", "", text, flags=re.DOTALL)


def statement_kind(text: str) -> str:
    """The leading keywords, normalised: "CREATE INDEX", "ALTER TABLE", "UPDATE", "BEGIN", ..."""
    return kind_of(significant_words(text))


def kind_of(tokens: list[tuple[str, str]]) -> str:
    words = [w for k, w in tokens if k == WORD]
    if not words:
        return ""
    verb = words[0]
    if verb in _DDL_VERBS:
        return f"{verb} {_object_type(words[1:])}".rstrip()
    if verb == "WITH":
        return _main_verb_after_with(tokens) or "WITH"
    if verb in _TWO_WORD_VERBS and len(words) > 1:
        return _two_word(verb, words[1:])
    return verb


def _object_type(words: list[str]) -> str:
    rest = list(words)
    while rest and rest[0] in _CREATE_MODIFIERS:
        rest.pop(0)
    if rest and rest[0] in ("DEFINER", "ALGORITHM", "SQL"):
        # MySQL: ALGORITHM=..., DEFINER=user@host, SQL SECURITY ...; then the object type
        found = next((w for w in rest if w in ("PROCEDURE", "FUNCTION", "TRIGGER", "EVENT", "VIEW")), "")
        return found
    if rest and rest[0] == "AGGREGATE" and rest[1:2] == ["FUNCTION"]:
        return "FUNCTION"
    if len(rest) > 1 and (rest[0], rest[1]) in _OBJECT_PAIRS:
        return f"{rest[0]} {rest[1]}"
    return rest[0] if rest else ""


def _two_word(verb: str, rest: list[str]) -> str:
    if verb == "REFRESH" and rest[:2] == ["MATERIALIZED", "VIEW"]:
        return "REFRESH MATERIALIZED VIEW"
    if verb == "START" or verb == "RENAME":
        return f"{verb} {rest[0]}"
    if verb == "SECURITY" and rest[0] == "LABEL":
        return "SECURITY LABEL"
    return verb


def _main_verb_after_with(tokens: list[tuple[str, str]]) -> str:
    """WITH a AS (...) UPDATE ...: the verb after the CTE list, at parenthesis depth 0."""
    depth = 0
    for kind, word in tokens[1:]:
        if kind == PUNCT:
            depth += {"(": 1, ")": -1}.get(word, 0)
        elif kind == WORD and depth == 0 and word in _DML - {"TABLE"}:
            return word
    return ""


def needs_autocommit(tokens: list[tuple[str, str]], dialect: str | None) -> bool:
    """True for statements the server refuses to run inside a transaction block."""
    words = [w for k, w in tokens if k == WORD]
    if not words:
        return False
    if dialect == "sqlite":
        return words[0] == "VACUUM"
    if dialect == "mysql":
        return False
    return _postgres_refuses_transaction(words)


def _postgres_refuses_transaction(words: list[str]) -> bool:
    first, second = words[0], words[1] if len(words) > 1 else ""
    rest = set(words)
    if first in ("VACUUM", "REINDEX") and (first == "VACUUM" or "CONCURRENTLY" in rest):
        return True
    if first == "REINDEX" and second in ("SYSTEM", "DATABASE"):
        return True
    if first == "CREATE":
        kind = _object_type(words[1:])
        after = words[words.index("INDEX") + 1 : words.index("INDEX") + 2] if kind == "INDEX" else []
        return after == ["CONCURRENTLY"] or kind in ("DATABASE", "TABLESPACE", "SUBSCRIPTION")
    if first == "DROP":
        return words[1:3] == ["INDEX", "CONCURRENTLY"] or second in ("DATABASE", "TABLESPACE", "SUBSCRIPTION")
    if first == "ALTER" and second == "SYSTEM":
        return True
    if first == "ALTER" and second == "TABLE":
        return {"DETACH", "PARTITION", "CONCURRENTLY"} <= rest
    if first == "ALTER" and second == "DATABASE":
        return words[3:5] == ["SET", "TABLESPACE"]
    # ALTER TYPE ... ADD VALUE only refuses a transaction before PostgreSQL 12
    return first == "CLUSTER" and len(words) == 1
