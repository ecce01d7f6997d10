"""Prefect flows over the dualpath core: migrate (the main one)."""

from dualpath.flows.logs import quiet_explained_failures

quiet_explained_failures()
