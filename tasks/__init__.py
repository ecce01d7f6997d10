"""Prefect tasks: thin wrappers over the dualpath core with retries, timeouts and logging."""
