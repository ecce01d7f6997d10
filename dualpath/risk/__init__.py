"""Risk engine: the lock/rewrite catalogue per engine and version, the rules, and lint.

>>> classify("CREATE INDEX i ON orders (customer_id)", "postgresql", (16,))[0].lock
'SHARE'

Imports stay light (no Prefect, no Great Expectations; pglast only when PostgreSQL SQL is read).
"""

from dualpath.risk.catalogue import Catalogue, catalogue_for
from dualpath.risk.classify import classify
from dualpath.risk.model import Effect, Finding, Op

__all__ = ["Catalogue", "Effect", "Finding", "Op", "catalogue_for", "classify"]
