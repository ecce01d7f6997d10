"""Validation around a run: schema snapshot, statement facts, baseline, settings and results.

Plain Python and SQLAlchemy only; Great Expectations is imported by ``expectations/`` alone.
"""
