"""Split a migration file into statements, with their lines and ``-- dualpath:`` directives.

The lexer finds strings, comments and delimiters for every dialect. For PostgreSQL, when
pglast can parse the whole text, its grammar decides which semicolons end a statement;
otherwise (syntax newer than pglast, other dialects) BEGIN/CASE ... END depth does.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, replace

from pglast import parser as pg_parser

from dualpath.changes import Directive, Statement
from dualpath.directives import parse_directive
from dualpath.errors import InputError
from dualpath.sql.blocks import block_boundaries
from dualpath.sql.kinds import needs_autocommit, significant_words
from dualpath.sql.tokens import DIALECTS, LINE_COMMENT, SEMICOLON, SEND, SIMPLE, STRING, Token, lex


@dataclass(frozen=True)
class _Piece:
    """One statement's tokens and the offset where its segment ends (its delimiter)."""

    tokens: list[Token]
    end: int
    sent_by: str = ""  # "gexec" or "g" when psql's meta-command ends it


def split_statements(
    text: str, *, file: str, start_line: int = 1, dialect: str | None = None, psql: bool = False
) -> list[Statement]:
    """The statements of ``text``; directives are attached to the statement they precede."""
    statements, _ = split_with_directives(text, file=file, start_line=start_line, dialect=dialect, psql=psql)
    return statements


def split_with_directives(
    text: str, *, file: str, start_line: int = 1, dialect: str | None = None, psql: bool = False
) -> tuple[list[Statement], list[Directive]]:
    """Statements plus every directive found, including ones no statement follows. ``psql``: the file
    is run by psql (sqitch on PostgreSQL), so ``\\g`` ends a query and ``\\gexec`` ends one whose
    results are statements (Statement.gexec)."""
    dialect = check_dialect(dialect, file)
    tokens = lex(text, file=file, start_line=start_line, dialect=dialect, psql=psql)
    directives = read_directives(text, tokens, file)
    ends = find_boundaries(text, tokens, dialect)
    pieces = cut_pieces(text, tokens, ends, file)
    statements = [build_statement(text, piece, file, dialect) for piece in pieces]
    return attach_directives(statements, pieces, directives), [d for _, d in directives]


_ALIASES = {"postgres": "postgresql", "pg": "postgresql", "mariadb": "mysql", "sqlite3": "sqlite"}


def check_dialect(dialect: str | None, file: str) -> str | None:
    """The canonical dialect name; URL spellings such as 'mariadb' or 'postgres' are accepted."""
    if dialect is None:
        return None
    name = _ALIASES.get(dialect.lower(), dialect.lower())
    if name not in DIALECTS:
        raise InputError(f"unknown SQL dialect '{dialect}'", where=file,
                         hint=f"use one of: {', '.join(DIALECTS)}, or leave it out to accept both "
                         "PostgreSQL dollar quotes and MySQL DELIMITER")
    return name


def read_directives(text: str, tokens: list[Token], file: str) -> list[tuple[int, Directive]]:
    """``-- dualpath:...`` comments that stand on their own line, with their offsets."""
    found: list[tuple[int, Directive]] = []
    for token in tokens:
        if token.kind != LINE_COMMENT or "dualpath:" not in text[token.start : token.end]:
            continue
        line_start = text.rfind("\n", 0, token.start) + 1
        if text[line_start : token.start].strip():
            continue
        directive = parse_directive(text[line_start : token.end], file, token.line)
        if directive:
            found.append((token.start, directive))
    return found


def find_boundaries(text: str, tokens: list[Token], dialect: str | None) -> set[int]:
    """Indices of the tokens that end a statement."""
    if dialect == "postgresql" and not any(t.kind == SEND for t in tokens):
        from_parser = parser_boundaries(text, tokens)
        if from_parser is not None:
            return from_parser
    return block_boundaries(text, tokens)


def parser_boundaries(text: str, tokens: list[Token]) -> set[int] | None:
    """Ask pglast where statements end; None when it cannot parse the text or disagrees."""
    try:
        slices = pg_parser.split(text, with_parser=True, only_slices=True)
    except Exception:  # any parse failure: newer syntax than pglast knows, or broken SQL
        return None
    starts = [t.start for t in tokens]
    for piece in slices:
        index = next_code_token(tokens, starts, piece.stop)
        if index is not None and tokens[index].kind != SEMICOLON:
            return None
    # every semicolon outside a statement ends one (or an empty one: ';;')
    spans = [(p.start, p.stop) for p in slices]
    span_starts = [start for start, _ in spans]
    return {i for i, t in enumerate(tokens) if t.kind == SEMICOLON and not covered(spans, span_starts, t.start)}


def covered(spans: list[tuple[int, int]], span_starts: list[int], offset: int) -> bool:
    index = bisect_right(span_starts, offset) - 1
    return index >= 0 and offset < spans[index][1]


def next_code_token(tokens: list[Token], starts: list[int], offset: int) -> int | None:
    index = bisect_left(starts, offset)
    while index < len(tokens) and not tokens[index].significant and tokens[index].kind != SEMICOLON:
        index += 1
    return index if index < len(tokens) else None


def cut_pieces(text: str, tokens: list[Token], ends: set[int], file: str = "") -> list[_Piece]:
    """Group tokens between boundaries, keeping only groups that hold code."""
    pieces: list[_Piece] = []
    current: list[Token] = []
    for index, token in enumerate(tokens):
        if index in ends:
            if token.kind == SEND and not any(t.significant for t in current):
                refuse_empty_send(token, file)
            pieces.append(_Piece(current, token.start, token.value if token.kind == SEND else ""))
            current = []
        else:
            current.append(token)
    pieces.append(_Piece(current, len(text)))
    return [p for p in pieces if any(t.significant for t in p.tokens)]


def refuse_empty_send(token: Token, file: str) -> None:
    """psql sends the previous query again when its buffer is empty (``SELECT ...;`` then ``\\gexec``):
    a second run nobody reading the file expects."""
    raise InputError(f"psql's \\{token.value} follows no query of its own (the previous one ended before it), "
                     "so psql would run the previous query a second time", where=f"{file}:{token.line}",
                     hint=f"end the query with \\{token.value} instead of ';' (SELECT ... \\{token.value})")


def generates_autocommit(text: str, piece: _Piece, dialect: str | None) -> bool:
    """A \\gexec query whose string literals hold a statement that refuses a transaction
    ('CREATE DATABASE ...'): psql runs it outside one, so dualpath runs the query and its results alone."""
    for token in piece.tokens:
        if token.kind != STRING:
            continue
        literal = text[token.start + 1 : token.end - 1].replace("''", "'")
        words = significant_words(literal)  # a piece of a statement ('CREATE DATABASE g OWNER "') lexes too
        if needs_autocommit(words, dialect):
            return True
    return False


def build_statement(text: str, piece: _Piece, file: str, dialect: str | None, offset: int = 0) -> Statement:
    """``offset``: where ``text`` starts in the whole file (spans are file offsets)."""
    code = [t for t in piece.tokens if t.significant]
    # leading and trailing comments are not part of the statement; inner ones are
    start, end = code[0].start, code[-1].end  # tokens never start or end with whitespace
    if len(code) == 1 and code[0].kind == SIMPLE:  # plain DML never refuses a transaction
        return Statement(text=text[start:end], file=file, line=code[0].line, span=(start + offset, end + offset))
    words = [(t.kind, text[t.start : t.end].upper()) for t in code]
    gexec = piece.sent_by == "gexec"
    alone = needs_autocommit(words, dialect) or gexec and generates_autocommit(text, piece, dialect)
    return Statement(text=text[start:end], file=file, line=code[0].line, no_transaction=alone, gexec=gexec,
                     span=(start + offset, end + offset))


def attach_directives(
    statements: list[Statement], pieces: list[_Piece], directives: list[tuple[int, Directive]]
) -> list[Statement]:
    """Each directive belongs to the statement it precedes; trailing ones to the last statement."""
    if not statements or not directives:
        return statements
    owned: list[list[Directive]] = [[] for _ in statements]
    for offset, directive in directives:
        owner = next((i for i, p in enumerate(pieces) if p.end > offset), len(statements) - 1)
        owned[owner].append(directive)
    return [with_directives(s, mine) for s, mine in zip(statements, owned, strict=True)]


def with_directives(statement: Statement, directives: list[Directive]) -> Statement:
    if not directives:
        return statement
    refuses = statement.no_transaction or any(d.name == "no-transaction" for d in directives)
    return replace(statement, directives=tuple(directives), no_transaction=refuses)
