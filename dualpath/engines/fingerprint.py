"""Schema fingerprints: a canonical nested dict of schema objects, its digest and a human diff.

Engines introspect and yield ``(kind, name, attrs)`` entries; this module drops objects that
belong to dualpath or to other migration tools, canonicalises, hashes and compares. It knows
no dialect.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

KINDS = ("extension", "type", "table", "column", "index", "constraint", "view", "sequence",
         "function", "trigger")

# History tables of dualpath and of the tools whose layouts we read: not part of "the schema".
_FOREIGN_TABLES = frozenset({
    "flyway_schema_history", "databasechangelog", "databasechangeloglock",
    "schema_migrations", "__diesel_schema_migrations", "ar_internal_metadata",
})

# Attributes that name a table an object hangs off; children of a missing table are not
# listed one by one in a diff.
_PARENT_ATTR = "table"

Entry = tuple[str, str, dict[str, Any]]


def is_foreign_table(name: str) -> bool:
    """True for dualpath's own tables and other migration tools' history tables."""
    bare = name.rsplit(".", 1)[-1].lower()
    return bare.startswith("dualpath_") or bare in _FOREIGN_TABLES


def _is_foreign(kind: str, name: str, attrs: dict[str, Any]) -> bool:
    parent = attrs.get(_PARENT_ATTR)
    if parent is not None and is_foreign_table(str(parent)):
        return True
    if kind in ("table", "view", "sequence", "index", "trigger", "function"):
        # Sequences and indexes of dualpath's tables are named after them (dualpath_history_id_seq).
        return is_foreign_table(name) or name.rsplit(".", 1)[-1].lower().startswith("dualpath_")
    return False


def build_fingerprint(entries: Iterable[Entry]) -> Fingerprint:
    """Collect introspected entries into a Fingerprint, dropping foreign objects."""
    objects: dict[str, dict[str, dict[str, Any]]] = {}
    for kind, name, attrs in entries:
        if _is_foreign(kind, name, attrs):
            continue
        objects.setdefault(kind, {})[name] = canonical(attrs)
    return Fingerprint(objects)


def canonical(value: Any) -> Any:
    """JSON-ready value: tuples to lists, dict keys as strings, bytes and others as text."""
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def canonical_json(objects: dict[str, Any]) -> str:
    """The one serialisation the digest is taken over: sorted keys, no whitespace."""
    return json.dumps(canonical(objects), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def body_hash(text: str | None) -> str | None:
    """A short stable hash of a routine or trigger body, whitespace-insensitive."""
    if text is None:
        return None
    return hashlib.sha256(normalize_sql(text).encode()).hexdigest()[:16]


_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`[^`]*`|\s+|[^'\"`\s]+|.", re.S)


def normalize_sql(text: str) -> str:
    """Collapse whitespace outside quotes and drop it around punctuation; keep literals as written."""
    out: list[str] = []
    for token in _TOKENS.findall(text.strip().rstrip(";").strip()):
        out.append(" " if token.isspace() else token)
    joined = "".join(out)
    # Spaces next to ( ) , are layout, not meaning; only outside literals (already tokenised).
    parts = re.split(r"('(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`[^`]*`)", joined)
    for i in range(0, len(parts), 2):
        parts[i] = re.sub(r"\s*([(),])\s*", r"\1", parts[i])
    return "".join(parts)


@dataclass(frozen=True)
class Fingerprint:
    """A canonical, hashable description of a schema.

    ``objects`` maps a kind ("table", "column", "index", "constraint", "view", "sequence",
    "function", "trigger", and "type"/"extension" on PostgreSQL) to {qualified name:
    canonical attributes}. Two fingerprints are equal when the schemas are the same for a
    migration's purposes: no OIDs, counters, positions or timestamps inside.
    """

    objects: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Fingerprint):
            return NotImplemented
        return self.canonical_json() == other.canonical_json()

    __hash__ = None  # type: ignore[assignment]  # holds dicts

    def canonical_json(self) -> str:
        return canonical_json({k: v for k, v in self.objects.items() if v})

    @property
    def digest(self) -> str:
        """sha256 of the canonical JSON: equal schemas, equal digests."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()

    def names(self, kind: str) -> list[str]:
        return sorted(self.objects.get(kind, {}))

    def diff(self, other: Fingerprint) -> list[str]:
        """Lines saying how ``other`` (after) differs from ``self`` (before), one per difference."""
        return diff_objects(self.objects, other.objects)


def diff_objects(before: dict[str, dict[str, dict[str, Any]]],
                 after: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
    """Human lines: ``index x: missing after``, ``column t.c: default 0 → NULL``."""
    gone_tables = set(before.get("table", {})) - set(after.get("table", {}))
    new_tables = set(after.get("table", {})) - set(before.get("table", {}))
    lines: list[str] = []
    for kind in _ordered_kinds(before, after):
        old, new = before.get(kind, {}), after.get(kind, {})
        for name in sorted(set(old) | set(new)):
            if name not in new:
                if old[name].get(_PARENT_ATTR) not in gone_tables:
                    lines.append(f"{kind} {name}: missing after")
            elif name not in old:
                if new[name].get(_PARENT_ATTR) not in new_tables:
                    lines.append(f"{kind} {name}: extra after")
            else:
                lines.extend(_diff_attrs(kind, name, old[name], new[name]))
    return lines


def _ordered_kinds(*sides: dict[str, Any]) -> list[str]:
    present = {k for side in sides for k in side}
    return [k for k in KINDS if k in present] + sorted(present - set(KINDS))


def _diff_attrs(kind: str, name: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return [f"{kind} {name}: {attr} {show(old.get(attr))} → {show(new.get(attr))}"
            for attr in sorted(set(old) | set(new)) if old.get(attr) != new.get(attr)]


def show(value: Any, limit: int = 160) -> str:
    """A value as a person reads it in a diff: NULL for None, SQL text unquoted."""
    if value is None:
        text = "NULL"
    elif isinstance(value, str):
        text = value if value else "''"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"
