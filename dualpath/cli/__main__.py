"""`python -m dualpath.cli`: the same as the `dualpath` command."""

from dualpath.cli.entry import main

main()
