"""How the risk engine compares table names."""

from __future__ import annotations


def same_name(a: str, b: str) -> bool:
    """``s.orders`` and ``orders`` are the same table when one side gives no schema."""
    a, b = a.lower(), b.lower()
    return a == b or ("." in a) != ("." in b) and a.split(".")[-1] == b.split(".")[-1]
