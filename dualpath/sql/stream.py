"""Split text that arrives in pieces (a file read a chunk at a time) into statements, one at a time.

The text is cut into windows of about WINDOW characters, each ending at a statement boundary;
each window is split as :func:`~dualpath.sql.split.split_with_directives` splits a whole text
(pglast decides for PostgreSQL when it can parse the window). Memory follows the window or the
largest statement, whichever is bigger, never the file. A text shorter than a window is split
exactly as the whole-text splitter splits it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from dualpath.changes import Directive, Statement
from dualpath.sql.blocks import block_boundaries
from dualpath.sql.split import (
    attach_directives,
    build_statement,
    check_dialect,
    cut_pieces,
    find_boundaries,
    read_directives,
    with_directives,
)
from dualpath.sql.tokens import SEMICOLON, SET_DELIMITER, SIMPLE, Lexer, Token

WINDOW = 1 << 18  # characters split at once


class _Window:
    """The text not yet split: it starts at the beginning of a line (``line``, ``offset`` in the file);
    splitting resumes at ``resume`` with ``delimiter`` in force (``in_chunk``: inside a DELIMITER chunk,
    after one of its statements, where no DELIMITER command can stand)."""

    def __init__(self, start_line: int) -> None:
        self.text = ""
        self.line = start_line
        self.offset = 0
        self.resume = 0
        self.delimiter = ";"
        self.in_chunk = False

    def advance(self, cut: int, delimiter: str, in_chunk: bool) -> None:
        """Forget what lies before the line holding ``cut``; resume splitting at ``cut``."""
        line_start = self.text.rfind("\n", 0, cut) + 1
        self.line += self.text.count("\n", 0, line_start)
        self.offset += line_start
        self.text = self.text[line_start:]
        self.resume = cut - line_start
        self.delimiter = delimiter
        self.in_chunk = in_chunk


def iter_split(pieces: Iterable[str], *, file: str, start_line: int = 1, dialect: str | None = None,
               directives: list[Directive] | None = None, window: int = WINDOW) -> Iterator[Statement]:
    """Statements of the concatenated ``pieces``, each as soon as it is known; every directive found
    is appended to ``directives``. Spans are offsets in the whole text."""
    dialect = check_dialect(dialect, file)
    state = _Window(start_line)
    held: Statement | None = None  # the latest statement: directives after it, at the end, are its own
    wait = window
    for piece in pieces:
        state.text += piece
        if len(state.text) - state.resume < wait:
            continue
        found, _ = _split_window(state, file, dialect, directives, final=False)
        # no boundary yet (a statement longer than the window): wait for twice the text, so a long
        # statement is lexed a few times in all, not once per piece
        wait = window if found is not None else 2 * (len(state.text) - state.resume)
        for statement in found or ():
            if held is not None:
                yield held
            held = statement
    last, trailing = _split_window(state, file, dialect, directives, final=True)
    for statement in last or ():
        if held is not None:
            yield held
        held = statement
    if held is not None:
        yield with_directives(held, [*held.directives, *trailing]) if trailing else held


def _split_window(state: _Window, file: str, dialect: str | None, directives: list[Directive] | None,
                  final: bool) -> tuple[list[Statement] | None, list[Directive]]:
    """Split what the window holds up to its last boundary (everything when final). Returns the
    statements (None when the window holds no complete statement yet) and, when the final window
    holds no statement, the directives in it (they belong to the statement before)."""
    text = state.text
    lexer = Lexer(text, file=file, start_line=state.line, dialect=dialect, start=state.resume,
                  delimiter=state.delimiter, final=final, fast=True, in_chunk=state.in_chunk)
    tokens = lexer.run()
    plain = all(t.kind in (SIMPLE, SEMICOLON) for t in tokens if t.significant)
    if not final:
        cut = _last_cut(text, tokens, plain)
        if cut is None:
            return None, []
        tokens = tokens[: cut + 1]
        text = text[: tokens[cut].end]
    found = read_directives(text, tokens, file)
    if directives is not None:
        directives.extend(d for _, d in found)
    if plain:
        ends = {i for i, t in enumerate(tokens) if t.kind == SEMICOLON}  # plain DML: each ';' ends one
    else:
        ends = find_boundaries(_blank_before(text, state.resume), tokens, dialect)
    pieces = cut_pieces(text, tokens, ends)
    statements = [build_statement(text, piece, file, dialect, state.offset) for piece in pieces]
    if not statements:
        return [], [d for _, d in found]
    statements = attach_directives(statements, pieces, found)
    if not final:
        last = tokens[-1]
        state.advance(len(text), _delimiter_after(tokens, state.delimiter), last.kind == SEMICOLON and bool(last.value))
    return statements, []


def _last_cut(text: str, tokens: list[Token], plain: bool) -> int | None:
    """Index of the boundary token that ends the window's last statement with code in it; a window
    cut there splits as the whole text would (a directive after it waits for the next statement)."""
    ends = block_boundaries(text, tokens) if not plain else {
        i for i, t in enumerate(tokens) if t.kind == SEMICOLON}
    code_seen, best = False, None
    for index, token in enumerate(tokens):
        if index in ends:
            if code_seen:
                best = index
            code_seen = False
        elif token.significant:
            code_seen = True
    return best


def _blank_before(text: str, resume: int) -> str:
    """The window with the end of the previous statement (before ``resume``) blanked for pglast."""
    return " " * resume + text[resume:] if resume else text


def _delimiter_after(tokens: list[Token], current: str) -> str:
    for token in reversed(tokens):
        if token.kind == SET_DELIMITER:
            return token.value
    return current


