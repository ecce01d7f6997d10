"""One statement's lexemes, as the risk readers want them: words, numbers, quoted names, strings, punctuation.

They come from the one lexer (``tokens.py``), which knows where strings, quoted names and comments
are in each dialect; read as one statement (``Lexer(commands=False)``) it also cuts ``1.5`` as one
number, ``@@session`` and ``user@host`` as one word, ``<=`` ``<>`` ``!=`` ``:=`` as one mark. Here
comments are dropped and quoted identifiers lose their quotes (so that ``\\`orders\\``` and
``orders`` compare equal).
"""

from __future__ import annotations

from typing import NamedTuple

from dualpath.errors import InputError
from dualpath.sql.tokens import COMMENTS, QUOTED, STRING, WORD, Lexer, Token


class SqlSyntaxError(Exception):
    """The statement does not parse; ``offset`` is the character offset the parser names."""

    def __init__(self, message: str, offset: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


class Lexeme(NamedTuple):
    kind: str  # "word" | "quoted" | "string" | "number" | "punct"
    text: str
    offset: int

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else self.text

    @property
    def name(self) -> str:
        """As an identifier: unquoted, lower case."""
        return self.text.lower()


def lexemes(text: str, dialect: str) -> list[Lexeme]:
    """The lexemes of one statement as the server reads it (no client commands such as DELIMITER);
    raises SqlSyntaxError at the token that cannot be read (an unterminated quote)."""
    lexer = Lexer(text, file="<statement>", dialect=dialect, commands=False)
    pos = 1 if text.startswith("\ufeff") else 0  # a byte-order mark is not code
    try:
        while pos < len(text):
            pos = lexer.read_one(pos)
    except InputError as exc:
        raise SqlSyntaxError(exc.message, pos) from None
    return _group(text, lexer.tokens)


def _group(text: str, tokens: list[Token]) -> list[Lexeme]:
    out: list[Lexeme] = []
    for tok in tokens:
        value = text[tok.start : tok.end]
        if tok.kind == WORD:
            out.append(Lexeme("number" if value[0].isdecimal() else "word", value, tok.start))
        elif tok.kind == QUOTED or tok.kind == STRING and value[0] == '"':
            out.append(Lexeme("quoted", value[1:-1], tok.start))  # MySQL's "..." too, as with ANSI_QUOTES
        elif tok.kind == STRING:
            out.append(Lexeme("string", value, tok.start))
        elif tok.kind not in COMMENTS:
            out.append(Lexeme("punct", value, tok.start))
    return out


def split_top(tokens: list[Lexeme], sep: str = ",") -> list[list[Lexeme]]:
    """Split on ``sep`` outside parentheses."""
    parts: list[list[Lexeme]] = [[]]
    depth = 0
    for tok in tokens:
        if tok.kind == "punct" and tok.text == "(":
            depth += 1
        elif tok.kind == "punct" and tok.text == ")":
            depth -= 1
        if depth == 0 and tok.kind == "punct" and tok.text == sep:
            parts.append([])
        else:
            parts[-1].append(tok)
    return [p for p in parts if p]


def top_words(tokens: list[Lexeme]) -> list[str]:
    """Upper-case words outside parentheses, in order."""
    words, depth = [], 0
    for tok in tokens:
        if tok.text == "(" and tok.kind == "punct":
            depth += 1
        elif tok.text == ")" and tok.kind == "punct":
            depth -= 1
        elif depth == 0 and tok.kind == "word":
            words.append(tok.upper)
    return words


def qualified(tokens: list[Lexeme], start: int) -> tuple[str, int]:
    """Read ``a`` or ``a.b`` at ``start``; return the lower-case name and the next index."""
    parts = [tokens[start].name]
    i = start + 1
    while i + 1 < len(tokens) and tokens[i].text == "." and tokens[i].kind == "punct":
        parts.append(tokens[i + 1].name)
        i += 2
    return ".".join(parts), i


def skip_words(tokens: list[Lexeme], i: int, *words: str) -> int:
    """The index of the first lexeme from ``i`` on that is none of ``words`` (upper case)."""
    while i < len(tokens) and tokens[i].upper in words:
        i += 1
    return i


def index_of(tokens: list[Lexeme], word: str, start: int = 0) -> int:
    """The index of ``word`` (upper case) outside parentheses from ``start`` on, or -1."""
    depth = 0
    for i in range(start, len(tokens)):
        tok = tokens[i]
        depth += (tok.text == "(") - (tok.text == ")") if tok.kind == "punct" else 0
        if depth == 0 and tok.upper == word:
            return i
    return -1
