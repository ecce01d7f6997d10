"""Data changes in batches: `-- dualpath:batch` statements run chunk by chunk, each with a checkpoint."""
