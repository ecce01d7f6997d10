"""Database URLs: normalise driver names and redact secrets before anything prints them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from dualpath.errors import UsageError

if TYPE_CHECKING:  # SQLAlchemy is imported when a URL is parsed, not by whoever only redacts
    from sqlalchemy.engine import URL

# SQLAlchemy 2.1 maps mysql:// to MySQLdb, which we do not ship; PyMySQL is the driver.
_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
    "sqlite": "sqlite",
}

_SECRET_IN_URL = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<secret>[^@\s]+)(?P<tail>@)", re.I)
_SECRET_PARAMS = re.compile(r"(?P<head>[?&](?:password|passwd|pwd|token|secret|sslpassword)=)[^&\s]+", re.I)


def parse_url(text: str) -> URL:
    """Parse a user URL into a SQLAlchemy URL with the driver we ship for its backend."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(text)
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        detail = f": {exc}" if isinstance(exc, ValueError) else ""
        raise UsageError(f"'{redact(text)}' is not a database URL{detail}",
                         hint="use postgresql://user@host:5432/db, mysql://root@host:3306/db "
                              "or sqlite:///path/to.db, or a target name from dualpath.toml") from None
    backend = url.get_backend_name()
    if backend not in _DRIVERS:
        raise UsageError(f"unsupported database '{backend}' in '{redact(text)}'",
                         hint="dualpath speaks postgresql, mysql/mariadb and sqlite")
    if "+" not in url.drivername:
        url = url.set(drivername=_DRIVERS[backend])
    return url


def backend_of(url: URL) -> str:
    """'postgresql', 'mysql' or 'sqlite'."""
    name = url.get_backend_name()
    return "postgresql" if name == "postgres" else "mysql" if name == "mariadb" else name


def redact(text: str) -> str:
    """Replace passwords in URLs (and secret query parameters) anywhere inside ``text``."""
    text = _SECRET_IN_URL.sub(lambda m: f"{m['head']}***{m['tail']}", text)
    return _SECRET_PARAMS.sub(lambda m: f"{m['head']}***", text)


def safe_url(url: URL) -> str:
    """The URL as a person may see it: password hidden."""
    return url.render_as_string(hide_password=True)


def endpoint(url: URL) -> str:
    """host:port (or the file) — what an error about reachability names."""
    if backend_of(url) == "sqlite":
        return url.database or ":memory:"
    default = 5432 if backend_of(url) == "postgresql" else 3306
    return f"{url.host or 'localhost'}:{url.port or default}"
