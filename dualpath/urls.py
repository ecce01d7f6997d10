"""Database URLs: normalise driver names, and a URL type that never prints its secrets.

Every URL dualpath parses is a ``DatabaseURL``: ``str()``, ``repr()``, f-strings and
``render_as_string()`` show it with the password and secret query parameters (``?password=``,
``sslpassword``, ``passwd``, tokens inside ``options``) as ``***``. The one way to the full text
is ``reveal(url)``, for the few places that hand it to a driver or a tool.
"""

from __future__ import annotations

import re
from urllib.parse import quote_plus

from sqlalchemy.engine import URL
from sqlalchemy.util import to_list

from dualpath.errors import UsageError
from dualpath.redaction import MASK, SECRET_NAME, redact

__all__ = ["DatabaseURL", "backend_of", "endpoint", "parse_url", "password_of", "redact", "reveal", "safe_url"]

# SQLAlchemy 2.1 maps mysql:// to MySQLdb, which we do not ship; PyMySQL is the driver.
_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
    "sqlite": "sqlite",
}

_ENCODE_HINT = ("percent-encode @ : / # ? % & = + and spaces in a password (@ is %40, use "
                "urllib.parse.quote(pw, safe='')), or write it as ${ENV} in dualpath.toml, which encodes it")
_URL_HINT = ("use postgresql://user@host:5432/db, mysql://root@host:3306/db or sqlite:///path/to.db, "
             "or a target name from dualpath.toml; " + _ENCODE_HINT)


class DatabaseURL(URL):
    """A SQLAlchemy URL whose every printed form hides its secrets (``set()`` and friends keep the type)."""

    def render_as_string(self, hide_password: bool = True) -> str:
        if not hide_password:
            return URL.render_as_string(self, hide_password=False)
        shown = URL.render_as_string(self.set(query={}), hide_password=True)
        if self.query:
            shown += "?" + "&".join(f"{quote_plus(k)}={_shown_value(k, v)}" for k in sorted(self.query)
                                    for v in to_list(self.query[k]))
        return shown

    def __str__(self) -> str:
        return self.render_as_string(hide_password=True)

    def __repr__(self) -> str:
        return self.render_as_string(hide_password=True)


# inside a parameter's value, a word that sets a secret (libpq options: "-c app.token=..."): all of it goes
_SECRET_WORD = re.compile(r"(?P<head>(?<![\w-])\w*(?:password|passwd|pwd|secret|token|credential|api_?key)\s*=)\S*",
                          re.I)


def _shown_value(key: str, value: str) -> str:
    """A query value as shown: a secret parameter's value hidden, secrets inside others (options) too."""
    if SECRET_NAME.match(key):
        return MASK
    return quote_plus(redact(_SECRET_WORD.sub(lambda m: m["head"] + MASK, value)), safe="*=")


def password_of(url: URL) -> str | None:
    """The password, wherever the URL carries it: user:password@, or ?password= / ?passwd= (libpq, PyMySQL)."""
    if url.password is not None:
        return str(url.password)
    for key in ("password", "passwd"):
        value = url.query.get(key)
        if isinstance(value, str):
            return value
    return None


def parse_url(text: str | URL) -> DatabaseURL:
    """Parse a user URL into a DatabaseURL with the driver we ship for its backend."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(text)
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        why = ": what follows the host is not a port number" if isinstance(exc, ValueError) else ""
        raise UsageError(f"'{_shown_text(str(text))}' is not a database URL{why}", hint=_URL_HINT) from None
    if url.host and "@" in url.host:  # a raw '@' in the password: the rest of it was taken for the host
        raise UsageError(f"'{_shown_text(str(text))}' is not a database URL: its password holds a raw '@'",
                         hint=_ENCODE_HINT)
    backend = url.get_backend_name()
    if backend not in _DRIVERS:
        raise UsageError(f"unsupported database '{backend}' in '{DatabaseURL(*url)}'",
                         hint="dualpath speaks postgresql, mysql/mariadb and sqlite")
    if "+" not in url.drivername:
        url = url.set(drivername=_DRIVERS[backend])
    return url if isinstance(url, DatabaseURL) else DatabaseURL(*url)


def _shown_text(text: str) -> str:
    """A URL that could not be parsed, as it may be shown: none of its userinfo, no secret parameter."""
    scheme, sep, rest = text.partition("://")
    if sep and "@" in rest:
        rest = MASK + "@" + rest.rsplit("@", 1)[1]
    return redact(scheme + sep + rest)


def reveal(url: URL) -> str:
    """The full URL, password included: only for a driver or tool that needs it, never to show."""
    return URL.render_as_string(url, hide_password=False)


def backend_of(url: URL) -> str:
    """'postgresql', 'mysql' or 'sqlite'."""
    name = url.get_backend_name()
    return "postgresql" if name == "postgres" else "mysql" if name == "mariadb" else name


def safe_url(url: URL) -> str:
    """The URL as a person may see it: password and secret parameters hidden."""
    return DatabaseURL(*url).render_as_string(hide_password=True)


def server_and_database(url: URL) -> str:
    """host:port/database (or the file): a tenant named without its user, so no text reads as an email."""
    if backend_of(url) == "sqlite":
        return endpoint(url)
    return f"{endpoint(url)}/{url.database or ''}"


def endpoint(url: URL) -> str:
    """host:port (or the file) — what an error about reachability names."""
    if backend_of(url) == "sqlite":
        return url.database or ":memory:"
    default = 5432 if backend_of(url) == "postgresql" else 3306
    host = f"[{url.host}]" if url.host and ":" in url.host else url.host or "localhost"  # IPv6
    return f"{host}:{url.port or default}"
