"""A small SQL lexer: just enough to know where strings, comments and delimiters are.

It does not parse SQL. It finds the places a semicolon cannot end a statement (inside
strings, quoted identifiers, comments, dollar quotes) and the client-side commands a
migration file may carry (MySQL ``DELIMITER``, psql backslash commands).
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from typing import NamedTuple

from dualpath.errors import InputError

DIALECTS = ("postgresql", "mysql", "sqlite")

# token kinds
WORD = "word"  # keyword, identifier or number
QUOTED = "quoted"  # "ident", `ident`, [ident]
STRING = "string"
DOLLAR = "dollar"
LINE_COMMENT = "line_comment"
BLOCK_COMMENT = "block_comment"
SEMICOLON = "semicolon"  # a ';' that may end a statement; inside a DELIMITER chunk its value is the delimiter
DELIMITER = "delimiter"  # a custom MySQL delimiter such as '//'
SET_DELIMITER = "set_delimiter"  # a 'DELIMITER //' line; value in Token.value
PUNCT = "punct"
SIMPLE = "simple"  # a whole plain DML statement up to its ';' (only when asked for: Lexer(fast=True))
# psql's \g or \gexec ending a query (only when the file is run by psql: Lexer(psql=True)); value: its name
SEND = "send"

COMMENTS = (LINE_COMMENT, BLOCK_COMMENT)


class Token(NamedTuple):  # a tuple: a file has a token every few characters, and a tuple is cheap to make
    kind: str
    start: int
    end: int
    line: int
    value: str = ""
    # MySQL '/*! ... */' comments are code the server runs, not comments
    significant: bool = True


# what the servers take for whitespace; other invisible characters are refused (see _refuse_invisible)
_SPACE = re.compile(r"[ \t\n\r\f\v]+")
_WORD = re.compile(r"[\w$]+")
_PARAM = re.compile(r"\$\d+")
_DOLLAR_TAG = re.compile(r"\$(?:[^\W\d][\w]*)?\$")
_DELIMITER_CMD = re.compile(r"delimiter(?=\s|$)", re.IGNORECASE)
_META = re.compile(r"\\([A-Za-z!?]+|.)")
# the psql meta-commands that send the query buffer and that dualpath honours: \g alone is a ';', \gexec
# runs each value the query returns as a statement (the rest of the line must be empty)
_SEND = re.compile(r"\\(gexec|g)(?=[ \t]*(?:--[^\n]*)?(?:\r?\n|$))")
# unrolled loops: linear time even on huge literals, and they fail (not hang) when unterminated
_SINGLE = re.compile(r"'[^']*(?:''[^']*)*'")
_SINGLE_BACKSLASH = re.compile(r"'[^'\\]*(?:(?:\\.|'')[^'\\]*)*'", re.DOTALL)
_DOUBLE = re.compile(r'"[^"]*(?:""[^"]*)*"')
_DOUBLE_BACKSLASH = re.compile(r'"[^"\\]*(?:(?:\\.|"")[^"\\]*)*"', re.DOTALL)
_BACKTICK = re.compile(r"`[^`]*(?:``[^`]*)*`")
_BRACKET = re.compile(r"\[[^\]]*\]")
# a plain INSERT/UPDATE/DELETE/SELECT: no comment, no quote but a plain '...' string, nothing a dialect
# reads differently ($, backslash, brackets, backticks, double quotes, #, non-ASCII code); up to ';'
_PLAIN_STRING = r"'[^'\\]*(?:''[^'\\]*)*'"
# possessive (*+, ++): no backtracking, so a text without the ';' fails in linear time
_PLAIN_CODE = r"[A-Za-z0-9_ \t\n\r\f\v(),.*+=<>!%&|^~:?@{}]++|-(?!-)|/(?!\*)"
_SIMPLE = re.compile(r"(?:INSERT|UPDATE|DELETE|SELECT)\b(?:" + _PLAIN_CODE + "|" + _PLAIN_STRING + r")*+(?=;)",
                     re.IGNORECASE)
_FAST_START = frozenset("IiUuDdSs")
# one MySQL/SQLite statement's numbers (1.5), words (@@session, user@host, $1), operators (<=, :=) and the
# punctuation that starts nothing else (no comment, quote, ';', '\\'): Lexer(commands=False) reads them
_PLAIN_TOKEN = re.compile(r"[ \t\n\r\f\v]*+(?:(?P<word>\d+(?:\.\d+)?|[\w@$][\w$@]*)|"
                          r"(?P<punct><=|>=|<>|!=|:=|[(),.=<>!:+*%&|^~?{}]))")


class Unterminated(InputError):
    """A string, quoted name, dollar quote or comment runs to the end of the text."""


class Truncated(Exception):
    """Lexing a window of a file reached its end: the token may go on in the next piece."""


# a token ending this close to the end of a window may go on in the next piece (a word, a dollar tag)
_MARGIN = 256


class Lexer:
    """Turn one file's text into tokens; raise InputError naming file:line on broken input.

    A window of a longer file is lexed with ``final=False``: lexing stops (``stopped_at``) before
    the first token that might go on past the window's end, to go on once more text is read.
    ``start`` and ``delimiter`` resume where an earlier window stopped. ``commands=False`` reads one
    statement as the server does (no DELIMITER lines), MySQL/SQLite words and operators whole (lexemes.py).
    """

    def __init__(self, text: str, *, file: str, start_line: int = 1, dialect: str | None = None,
                 start: int = 0, delimiter: str = ";", final: bool = True, fast: bool = False,
                 in_chunk: bool = False, psql: bool = False, commands: bool = True) -> None:
        self.text = text
        self.psql = psql  # run by psql (sqitch on PostgreSQL): \g and \gexec end a query
        self.fast = fast  # plain DML statements as one SIMPLE token each (the file splitter's fast path)
        self.start = start
        self.final = final
        self.stopped_at = len(text)
        self.file = file
        self.dialect = dialect
        self.pg = dialect in ("postgresql", None)
        self.mysql = dialect in ("mysql", None)
        # a file's text carries the mysql client's DELIMITER lines; one statement (as the server reads it) does not
        self.delimiter_commands = self.mysql and commands
        self.plain = not (commands or self.pg or fast) and delimiter == ";"  # one statement: no delimiter to watch
        self.first_line = start_line
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.delimiter = delimiter
        self.tokens: list[Token] = []
        # True once the statement being read has code; DELIMITER is a command only before that. In a
        # DELIMITER chunk that means since the last custom delimiter: the mysql client sends the whole
        # chunk, ';' and all, and reads no command in it (``in_chunk``: a window resumes inside one)
        self.in_statement = in_chunk
        self.after_inner = in_chunk  # the last code was a ';' inside a DELIMITER chunk

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.line_starts, offset) + self.first_line - 1

    def where(self, offset: int) -> str:
        return f"{self.file}:{self.line_of(offset)}"

    def run(self) -> list[Token]:
        pos, size = self.start, len(self.text)
        if pos == 0 and self.text.startswith("\ufeff"):
            pos = 1  # a byte-order mark is not code
        if self.final:
            while pos < size:
                pos = self.read_one(pos)
            return self.tokens
        limit = size - _MARGIN
        while pos < limit:
            count = len(self.tokens)
            try:
                after = self.read_one(pos)
            except (Unterminated, Truncated):
                break
            if after > limit:
                del self.tokens[count:]
                break
            pos = after
        self.stopped_at = pos
        return self.tokens

    def emit(self, kind: str, start: int, end: int, value: str = "", significant: bool = True) -> int:
        self.tokens.append(Token(kind, start, end, self.line_of(start), value, significant))
        if kind in (DELIMITER, SET_DELIMITER, SEND) or kind == SEMICOLON and not value:
            self.in_statement = False
        elif significant:
            self.in_statement = True
        if significant:
            self.after_inner = kind == SEMICOLON and bool(value)
        return end

    def read_one(self, pos: int) -> int:
        text = self.text
        plain = _PLAIN_TOKEN.match(text, pos) if self.plain else None
        if plain:  # nothing to keep track of (no DELIMITER): the token alone
            group = plain.lastgroup or "punct"
            start = plain.start(group)
            self.tokens.append(Token(WORD if group == "word" else PUNCT, start, plain.end(), self.line_of(start)))
            return plain.end()
        if self.delimiter != ";" and text.startswith(self.delimiter, pos):
            return self.emit(DELIMITER, pos, pos + len(self.delimiter))
        space = _SPACE.match(text, pos)
        if space:
            return space.end()
        char = text[pos]
        if self.fast and char in _FAST_START and not self.in_statement and self.delimiter == ";":
            simple = _SIMPLE.match(text, pos)
            if simple:
                return self.emit(SIMPLE, pos, len(simple.group().rstrip(" \t\n\r\f\v")) + pos)
        if char == "-" and self.starts_dash_comment(pos):
            return self.read_line_comment(pos)
        if char == "#" and self.dialect == "mysql":
            return self.read_line_comment(pos)
        if text.startswith("/*", pos):
            return self.read_block_comment(pos)
        if char == "'":
            return self.read_string(pos)
        if char in "\"`[":
            return self.read_quoted(pos, char)
        if char == "$":
            return self.read_dollar(pos)
        if char == ";":
            # inside a DELIMITER chunk a ';' still ends a statement where the server's grammar ends one:
            # the client sends the chunk whole, and the server runs each statement in it
            return self.emit(SEMICOLON, pos, pos + 1, value="" if self.delimiter == ";" else self.delimiter)
        if char == "\\" and self.is_meta_command(pos):
            sent = _SEND.match(text, pos) if self.psql and self.pg else None
            if sent:
                return self.emit(SEND, pos, sent.end(), value=sent.group(1))
            self.refuse_meta_command(pos)
        word = _WORD.match(text, pos)
        if word:
            if self.delimiter_commands and self.at_line_start(pos) and _DELIMITER_CMD.match(text, pos):
                if not self.in_statement:
                    return self.read_delimiter_command(pos)
                if self.after_inner:
                    self.refuse_unended_chunk(pos)
            return self.emit(WORD, pos, self.stop_at_delimiter(pos, word.end()))
        if not char.isprintable() or unicodedata.category(char) in _INVISIBLE:
            self.refuse_invisible(pos)
        return self.emit(PUNCT, pos, pos + 1)

    def stop_at_delimiter(self, pos: int, end: int) -> int:
        """'END$$' with DELIMITER $$ is the word END, then the delimiter."""
        if self.delimiter == ";":
            return end
        found = self.text.find(self.delimiter, pos, end)
        return end if found <= pos else found

    def at_line_start(self, pos: int) -> bool:
        start = self.text.rfind("\n", 0, pos) + 1
        return not self.text[start:pos].strip()

    def is_meta_command(self, pos: int) -> bool:
        # PostgreSQL has no backslash outside strings, so any one is psql's ('SELECT ... \gexec')
        return self.dialect == "postgresql" or self.dialect is None and self.at_line_start(pos)

    def starts_dash_comment(self, pos: int) -> bool:
        if not self.text.startswith("--", pos):
            return False
        if self.dialect != "mysql":
            return True
        # MySQL needs whitespace after '--' (so that 5--1 stays arithmetic); a line that
        # starts with '--' is a comment whatever follows (Liquibase '--changeset', '--note')
        after = self.text[pos + 2 : pos + 3]
        return after == "" or after.isspace() or self.at_line_start(pos)

    def read_line_comment(self, pos: int) -> int:
        end = self.text.find("\n", pos)
        end = len(self.text) if end < 0 else end
        return self.emit(LINE_COMMENT, pos, end, significant=False)

    def read_block_comment(self, pos: int) -> int:
        nested = self.pg
        depth, cursor = 0, pos
        while True:
            close = self.text.find("*/", cursor)
            opening = self.text.find("/*", cursor) if nested or depth == 0 else -1
            if opening >= 0 and (close < 0 or opening < close):
                depth, cursor = depth + 1, opening + 2
                continue
            if close < 0:
                raise Unterminated(
                    f"unterminated block comment: the '/*' opened on line {self.line_of(pos)} is never closed",
                    where=self.where(pos),
                    hint="close it with '*/' (PostgreSQL nests block comments: each '/*' needs its own '*/')",
                )
            depth, cursor = depth - 1, close + 2
            if depth == 0:
                break
        executable = self.mysql and self.text[pos + 2 : pos + 3] in ("!", "+")
        return self.emit(BLOCK_COMMENT, pos, cursor, significant=executable)

    def read_string(self, pos: int) -> int:
        pattern = _SINGLE_BACKSLASH if self.backslash_escapes(pos) else _SINGLE
        found = pattern.match(self.text, pos)
        if not found:
            raise Unterminated(
                f"unterminated string literal: the quote opened on line {self.line_of(pos)} is never closed",
                where=self.where(pos),
                hint="close the string; write a quote inside a string as two quotes ('it''s')",
            )
        return self.emit(STRING, pos, found.end())

    def backslash_escapes(self, pos: int) -> bool:
        """MySQL strings and PostgreSQL E'...' strings treat a backslash as an escape."""
        if self.dialect == "mysql":
            return True
        if not self.pg or not self.tokens:
            return False
        last = self.tokens[-1]
        return last.kind == WORD and last.end == pos and self.text[last.start : last.end] in ("E", "e")

    def read_quoted(self, pos: int, char: str) -> int:
        if char == "[" and self.dialect != "sqlite" or char == "`" and self.dialect == "postgresql":
            return self.emit(PUNCT, pos, pos + 1)
        if char == '"' and self.dialect == "mysql":
            pattern, kind = _DOUBLE_BACKSLASH, STRING
        else:
            pattern = {'"': _DOUBLE, "`": _BACKTICK, "[": _BRACKET}[char]
            kind = QUOTED
        found = pattern.match(self.text, pos)
        if not found:
            what = "string literal" if kind == STRING else "quoted identifier"
            closer = "]" if char == "[" else char
            raise Unterminated(
                f"unterminated {what}: the {char} opened on line {self.line_of(pos)} is never closed",
                where=self.where(pos),
                hint=f"close it with {closer}; double a {closer} to write one inside it",
            )
        return self.emit(kind, pos, found.end())

    def read_dollar(self, pos: int) -> int:
        tag = _DOLLAR_TAG.match(self.text, pos) if self.pg else None
        if not tag:
            param = _PARAM.match(self.text, pos) or _WORD.match(self.text, pos)
            return self.emit(WORD, pos, param.end() if param else pos + 1)
        close = self.text.find(tag.group(), tag.end())
        if close < 0:
            raise Unterminated(
                f"unterminated dollar quote: {tag.group()} opened on line {self.line_of(pos)} is never closed",
                where=self.where(pos),
                hint=f"end the body with the same tag {tag.group()} (tags are case-sensitive)",
            )
        return self.emit(DOLLAR, pos, close + len(tag.group()))

    def read_delimiter_command(self, pos: int) -> int:
        end = self.text.find("\n", pos)
        end = len(self.text) if end < 0 else end
        words = self.text[pos:end].split()
        if end == len(self.text) and not self.final:
            raise Truncated()
        if len(words) < 2:
            raise InputError(
                "MySQL DELIMITER command gives no delimiter",
                where=self.where(pos),
                hint="write the new delimiter after it, e.g. 'DELIMITER //' before a routine "
                "and 'DELIMITER ;' after it",
            )
        self.delimiter = words[1]
        return self.emit(SET_DELIMITER, pos, end, value=words[1])

    def refuse_unended_chunk(self, pos: int) -> None:
        """``DELIMITER ;`` after ``END;`` where ``END //`` was meant: the mysql client reads DELIMITER only
        at the start of a chunk, so it sends the line to the server as SQL (error 1064) after running
        the statements before it; better to say so before anything runs."""
        opened = next((t for t in reversed(self.tokens) if t.kind == SET_DELIMITER), None)
        since = f" (set on line {opened.line})" if opened else ""
        raise InputError(
            f"DELIMITER command inside a statement: the chunk before it is not ended by "
            f"'{self.delimiter}'{since}, so the mysql client would send this line to the server as SQL",
            where=self.where(pos),
            hint=f"end the statement before it with '{self.delimiter}' (e.g. 'END {self.delimiter}' "
                 "instead of 'END;'), then the DELIMITER line",
        )

    def refuse_invisible(self, pos: int) -> None:
        """A control or invisible character in code: no server reads it as whitespace, and it hides
        what a reviewer sees (a NUL made PostgreSQL drop a statement silently)."""
        char = self.text[pos]
        name = unicodedata.name(char, "control character")
        raise InputError(
            f"invisible character U+{ord(char):04X} ({name}) outside a string or comment",
            where=self.where(pos),
            hint="delete it (an editor's 'show invisibles' finds it) or write it inside a string literal",
        )

    def refuse_meta_command(self, pos: int) -> None:
        found = _META.match(self.text, pos)
        name = "\\" + (found.group(1) if found else "")
        if self.psql:
            raise InputError(
                f"psql meta-command '{name}' cannot be honoured: dualpath runs statements through a driver and "
                "does what psql does for \\set, \\unset, \\g and \\gexec only",
                where=self.where(pos),
                hint=_meta_hint(name),
            )
        raise InputError(
            f"psql meta-command '{name}' is not SQL; dualpath runs statements through a driver, not psql",
            where=self.where(pos),
            hint=_meta_hint(name) if name not in ("\\g", "\\gexec") else
            "this layout's tool sends the file to the server, not through psql, so the server would refuse it "
            "too: end the query with ';' (or write the statements it would generate)",
        )


# control, format (zero-width, bidi overrides, BOM) and separator characters other than a space
_INVISIBLE = {"Cc", "Cf", "Zs", "Zl", "Zp", "Co", "Cn"}


def _meta_hint(name: str) -> str:
    if name in ("\\i", "\\ir", "\\include", "\\include_relative"):
        return "inline the included file's statements into this migration"
    if name in ("\\set", "\\unset"):
        return "replace the psql variable with a literal value in the SQL"
    if name in ("\\if", "\\elif", "\\else", "\\endif"):
        return ("psql's conditional blocks decide on the client; write the condition in SQL (a DO block with "
                "IF, or SELECT ... WHERE condition \\gexec)")
    if name in ("\\c", "\\connect"):
        return "split it into one migration per database; dualpath connects to the target given by --url"
    return "remove it and write the equivalent plain SQL (use a literal where it set a variable)"


def lex(text: str, *, file: str, start_line: int = 1, dialect: str | None = None,
        psql: bool = False) -> list[Token]:
    """Tokens of ``text``; whitespace is dropped, comments are kept (not significant). ``psql``: the
    file is run by psql, so its ``\\g`` and ``\\gexec`` end queries (SEND tokens)."""
    return Lexer(text, file=file, start_line=start_line, dialect=dialect, psql=psql).run()
