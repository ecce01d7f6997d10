"""Measure on a shadow: what each statement of a change really does to the server, and what depends on
what it drops, renames or retypes.

``dualpath lint --url`` and ``dualpath plan`` make a shadow of the target (its schema and a small sample
of its rows), run every pending change there in the change's own transaction scope, and observe each
statement: rewrites and index builds (storage ids before and after), the locks its transaction holds,
the sequential scans and rows it read and wrote, the ALGORITHM and LOCK MySQL/MariaDB accepted. The
verdict (``verdict.py``) turns that into findings scaled by the live table's size; for a measured
statement it replaces the static rules that guess the same thing (docs/rules/index.md).

Modules, one concept each: ``observation`` (what was seen), ``shadow`` (making the shadow),
``postgres`` and ``mysql`` (the probers), ``dependents`` (who uses a column or table), ``run``
(changes in order on the shadow), ``verdict`` (findings). This package is light to import: the
probers and SQLAlchemy load only when a shadow is made.
"""
