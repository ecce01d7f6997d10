"""PostgreSQL: the engine (``engine.py``) and its probes: shadows, locks, sizes, calibration (``probes.py``)."""
