"""Prefect flows over the dualpath core: migrate (the main one)."""
