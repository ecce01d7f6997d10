"""One rule per module, named ``dpNNN_<what_it_finds>.py``, each exporting ``RULE``."""
