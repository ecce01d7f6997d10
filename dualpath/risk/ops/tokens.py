"""A small SQL tokenizer for MySQL and SQLite: words, quoted names, strings, punctuation.

Comments and whitespace are dropped; quoted identifiers keep their text without quotes so
that ``\\`orders\\``` and ``orders`` compare equal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dualpath.risk.ops import SqlSyntaxError

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<comment>--[^\n]*|\#[^\n]*|/\*.*?\*/)
  | (?P<string>'(?:[^'\\]|\\.|'')*')
  | (?P<quoted>`(?:[^`]|``)*`|"(?:[^"]|"")*"|\[[^\]]*\])
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<word>[A-Za-z_@$][\w$@]*)
  | (?P<punct><=|>=|<>|!=|:=|[^\s\w])
""", re.S | re.X)


@dataclass(frozen=True)
class Token:
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


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or (match.lastgroup == "punct" and text[pos] in "'`\"["):
            raise SqlSyntaxError(f"unterminated quote starting with {text[pos]!r}", pos)
        kind = match.lastgroup or "punct"
        if kind not in ("space", "comment"):
            value = match.group()
            if kind == "quoted":
                value = value[1:-1]
            tokens.append(Token(kind, value, pos))
        pos = match.end()
    return tokens


def split_top(tokens: list[Token], sep: str = ",") -> list[list[Token]]:
    """Split on ``sep`` outside parentheses."""
    parts: list[list[Token]] = [[]]
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


def top_words(tokens: list[Token]) -> list[str]:
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


def qualified(tokens: list[Token], start: int) -> tuple[str, int]:
    """Read ``a`` or ``a.b`` at ``start``; return the lower-case name and the next index."""
    parts = [tokens[start].name]
    i = start + 1
    while i + 1 < len(tokens) and tokens[i].text == "." and tokens[i].kind == "punct":
        parts.append(tokens[i + 1].name)
        i += 2
    return ".".join(parts), i
