"""What the mysql/mariadb command-line client sends for a statement: its comments left out.

Run without ``--comments`` (the default, and how sqitch runs it), the client drops ``#``, ``-- `` and
``/* */`` comments before sending a statement; ``/*! */`` and ``/*+ */``, which the server reads, stay.
It matters where the server keeps the text: a routine, trigger or event body is stored as sent, so a
folder the client runs (sqitch on MySQL) must reach the server as the client sends it, or the schema
differs from the one its own tool makes.
See https://mariadb.com/kb/en/mariadb-command-line-client/ (--comments).
"""

from __future__ import annotations

from dualpath.sql.tokens import COMMENTS, lex


def as_client_sends(text: str, file: str) -> str:
    """``text`` without the comments the client drops; the rest (spaces and line breaks) as written."""
    if "#" not in text and "--" not in text and "/*" not in text:
        return text
    dropped = [t for t in lex(text, file=file, dialect="mysql") if t.kind in COMMENTS and not t.significant]
    if not dropped:
        return text
    out, at = [], 0
    for token in dropped:
        out.append(text[at:token.start])
        at = token.end
    out.append(text[at:])
    return "".join(out)
