"""dualpath: every migration with a tested way forward and a tested way back."""

__version__ = "0.1.0"
