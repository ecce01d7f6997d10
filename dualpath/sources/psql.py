"""psql variables in scripts that their tool runs through psql (sqitch on PostgreSQL).

sqitch deploys a pg script with ``psql -f``, so ``\\set name 'value'`` followed by ``:name``,
``:'name'`` (a quoted literal) or ``:"name"`` (a quoted identifier) works there. dualpath runs
statements through a driver, so the reader does what psql would: it drops the ``\\set``/``\\unset``
lines (keeping line numbers) and substitutes the variables, outside string literals, quoted
identifiers, dollar-quoted bodies and comments, exactly as psql does. A variable that is not set is
left as written (psql does the same). Any other meta-command (``\\i``, ``\\echo``, ``\\c``...) is
refused, naming file:line: running it needs psql itself.

A backtick in ``\\set`` runs a shell command in psql. The one real folders use,
``\\set name `cat FILE``` (a template loaded into a table, a secret), is read as psql reads it: FILE
relative to psql's working directory (for sqitch, the project directory), its one trailing newline
dropped. A FILE that cannot be read is what psql makes of it, a variable it could not set: ``:name``
stays as written, so the statement that uses it fails there, at its own line, when it runs; reading the
folder (detect, status, lint) still works and says so in a note. Any other command is refused.
See https://www.postgresql.org/docs/current/app-psql.html#APP-PSQL-VARIABLES
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from dualpath.errors import InputError

_META = re.compile(r"^[ \t]*\\(?P<command>[A-Za-z!?.;]*)(?P<args>.*)$")
_NAME = r"[A-Za-z0-9_\x80-\U0010ffff]+"
_VARIABLE = re.compile(rf":(?:'(?P<literal>{_NAME})'|\"(?P<ident>{_NAME})\"|(?P<plain>{_NAME}))")
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_\x80-\U0010ffff][A-Za-z0-9_\x80-\U0010ffff]*)?\$")
_ESCAPES = {"n": "\n", "t": "\t", "b": "\b", "r": "\r", "f": "\f"}
HINT = ("dualpath runs statements through a driver, not psql: keep to \\set name 'value' with :name, :'name' "
        "or :\"name\", or move this step out of the migration")


def has_meta_commands(text: str) -> bool:
    return any(_META.match(line) for line in text.split("\n"))


class Shell:
    """What a backtick in ``\\set`` may do: read a file with ``cat``, relative to ``workdir`` (psql's
    working directory). With ``run`` off the command is not run and its text stands for its output
    (for the checksum: sqitch hashes the script as written, so an edited template is no drift)."""

    def __init__(self, workdir: Path | None = None, run: bool = True, notes: list[str] | None = None) -> None:
        self.workdir, self.run = workdir, run
        self.notes = notes if notes is not None else []

    def output(self, command: str, where: str) -> str | None:
        """The command's output as psql takes it, or None when it cannot be had (the variable stays unset)."""
        path = _cat_target(command, where)
        if not self.run:
            return f"`{command}`"
        full = Path(path).expanduser()
        if not full.is_absolute():
            full = (self.workdir or Path.cwd()) / full
        try:
            data = full.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self.notes.append(f"{where}: `{command}` could not read {full} ({why}); the variable stays unset, so "
                              "the statement that uses it fails when it runs (psql would go on with an empty value)")
            return None
        return data[:-1] if data.endswith("\n") else data  # psql drops one trailing newline


def _cat_target(command: str, where: str) -> str:
    try:
        words = shlex.split(command)
    except ValueError:
        words = []
    if len(words) == 2 and words[0] == "cat" and not words[1].startswith("-"):
        return words[1]
    raise InputError(f"a backtick shell command in \\set runs a program through psql ({command!r}); dualpath "
                     "reads `cat FILE` and runs nothing else", where=where,
                     hint="write the value into the script (or a \\set 'literal' or `cat FILE`), or move this "
                          "step out of the migration")


def expand(text: str, file: Path | str, shell: Shell | None = None) -> str:
    """``text`` with its ``\\set`` lines blanked and psql variables substituted as psql would."""
    shell = shell or Shell()
    variables: dict[str, str] = {}
    out: list[str] = []
    state = _Lexer()
    for number, line in enumerate(text.split("\n"), start=1):
        meta = _META.match(line) if state.at_statement_level() else None
        if meta and meta["command"] in ("g", "gexec") and not meta["args"].strip():
            out.append(line)  # it ends a query: the splitter reads it (sql/split.py)
            continue
        if meta:
            _meta_command(meta["command"], meta["args"], variables, f"{file}:{number}", shell)
            out.append("")
            continue
        out.append(state.feed(line + "\n", variables)[:-1])
    return "\n".join(out)


def _meta_command(command: str, args: str, variables: dict[str, str], where: str, shell: Shell) -> None:
    if command not in ("set", "unset"):
        raise InputError(f"psql meta-command '\\{command}' cannot be honoured: dualpath runs statements "
                         "through a driver and does what psql does for \\set, \\unset, \\g and \\gexec only",
                         where=where, hint=HINT)
    words = _arguments(args, variables, where, shell)
    if not words:
        raise InputError(f"\\{command} without a variable name", where=where, hint="write \\set name 'value'")
    if command == "unset" or any(word is None for word in words[1:]):
        variables.pop(words[0] or "", None)
    else:
        variables[words[0] or ""] = "".join(w or "" for w in words[1:])


def _arguments(args: str, variables: dict[str, str], where: str, shell: Shell) -> list[str | None]:
    """psql's ``\\set`` arguments: whitespace-separated; 'quoted' text with '' and C-like escapes,
    "double-quoted" text kept with its quotes, :variables substituted outside quotes."""
    words: list[str | None] = []
    pos, size = 0, len(args)
    while True:
        while pos < size and args[pos] in " \t":
            pos += 1
        if pos >= size:
            return words
        word: list[str] = []
        failed = False
        while pos < size and args[pos] not in " \t":
            char = args[pos]
            if char == "'":
                pos = _single_quoted(args, pos + 1, word, where)
            elif char == '"':
                close = args.find('"', pos + 1)
                if close < 0:
                    raise InputError('unterminated " in a \\set argument', where=where, hint=HINT)
                word.append(args[pos:close + 1])
                pos = close + 1
            elif char == "`":
                close = args.find("`", pos + 1)
                if close < 0:
                    raise InputError("unterminated ` in a \\set argument", where=where, hint="close it with `")
                output = shell.output(args[pos + 1:close], where)
                failed = failed or output is None
                word.append(output or "")
                pos = close + 1
            elif char == ":" and (found := _VARIABLE.match(args, pos)):
                word.append(_value(found, variables) or found.group())
                pos = found.end()
            else:
                word.append(char)
                pos += 1
        words.append(None if failed else "".join(word))


def _single_quoted(args: str, pos: int, word: list[str], where: str) -> int:
    while pos < len(args):
        char = args[pos]
        if char == "'":
            if args.startswith("''", pos):
                word.append("'")
                pos += 2
                continue
            return pos + 1
        if char == "\\" and pos + 1 < len(args):
            nxt = args[pos + 1]
            octal = re.match(r"[0-7]{1,3}", args[pos + 1:])
            hexa = re.match(r"x([0-9A-Fa-f]{1,2})", args[pos + 1:])
            if nxt in _ESCAPES:
                word.append(_ESCAPES[nxt])
                pos += 2
            elif octal:
                word.append(chr(int(octal.group(), 8)))
                pos += 1 + octal.end()
            elif hexa:
                word.append(chr(int(hexa.group(1), 16)))
                pos += 1 + hexa.end()
            else:
                word.append(nxt)
                pos += 2
            continue
        word.append(char)
        pos += 1
    raise InputError("unterminated ' in a \\set argument", where=where, hint="close the quoted value with '")


def _value(found: re.Match[str], variables: dict[str, str]) -> str | None:
    if found["literal"] is not None and found["literal"] in variables:
        return quote_literal(variables[found["literal"]])
    if found["ident"] is not None and found["ident"] in variables:
        return '"' + variables[found["ident"]].replace('"', '""') + '"'
    if found["plain"] is not None and found["plain"] in variables:
        return variables[found["plain"]]
    return None


def quote_literal(value: str) -> str:
    """As libpq's PQescapeLiteral: '' for a quote; with a backslash, `` E'...'`` and \\\\ for it."""
    body = value.replace("'", "''")
    if "\\" in value:
        return " E'" + body.replace("\\", "\\\\") + "'"
    return "'" + body + "'"


class _Lexer:
    """Where psql is in the SQL text: only at the top level are variables substituted."""

    def __init__(self) -> None:
        self.inside: str | None = None  # "'", '"', "/*", or a dollar tag
        self.depth = 0  # nested block comments
        self.backslashes = False  # inside an E'...' string, where \' does not end it

    def at_statement_level(self) -> bool:
        return self.inside is None

    def feed(self, text: str, variables: dict[str, str]) -> str:
        out: list[str] = []
        pos, size = 0, len(text)
        while pos < size:
            if self.inside is not None:
                pos = self._inside(text, pos, out)
                continue
            char = text[pos]
            if text.startswith("--", pos):
                end = text.find("\n", pos)
                end = size if end < 0 else end
                out.append(text[pos:end])
                pos = end
            elif text.startswith("/*", pos):
                self.inside, self.depth = "/*", 1
                out.append("/*")
                pos += 2
            elif char in "'\"":
                self.inside = char
                self.backslashes = char == "'" and pos > 0 and text[pos - 1] in "Ee" and not _in_word(text, pos - 1)
                out.append(char)
                pos += 1
            elif char == "$" and (tag := _DOLLAR_TAG.match(text, pos)) and not _in_word(text, pos):
                self.inside = tag.group()
                out.append(tag.group())
                pos = tag.end()
            elif text.startswith("::", pos):
                out.append("::")
                pos += 2
            elif char == ":" and (found := _VARIABLE.match(text, pos)):
                value = _value(found, variables)
                out.append(found.group() if value is None else value)
                pos = found.end()
            else:
                out.append(char)
                pos += 1
        return "".join(out)

    def _inside(self, text: str, pos: int, out: list[str]) -> int:
        inside = self.inside
        assert inside is not None
        if inside == "/*":
            opener, closer = text.find("/*", pos), text.find("*/", pos)
            if closer < 0 and opener < 0:
                out.append(text[pos:])
                return len(text)
            if opener >= 0 and (closer < 0 or opener < closer):
                self.depth += 1
                out.append(text[pos:opener + 2])
                return opener + 2
            self.depth -= 1
            if self.depth == 0:
                self.inside = None
            out.append(text[pos:closer + 2])
            return closer + 2
        close = text.find(inside, pos)
        if self.backslashes:
            while close > 0 and _escaped(text, close, pos):
                close = text.find(inside, close + 1)
        if close < 0:
            out.append(text[pos:])
            return len(text)
        if inside in "'\"" and text.startswith(inside * 2, close):
            out.append(text[pos:close + 2])  # a doubled quote stays inside
            return close + 2
        self.inside = None
        out.append(text[pos:close + len(inside)])
        return close + len(inside)


def _escaped(text: str, pos: int, start: int) -> bool:
    """An odd number of backslashes before ``pos`` (not before ``start``) escapes the character."""
    count = 0
    while pos - count - 1 >= start and text[pos - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def _in_word(text: str, pos: int) -> bool:
    """``a$1$`` is part of an identifier, not a dollar quote."""
    return pos > 0 and (text[pos - 1].isalnum() or text[pos - 1] == "_")
