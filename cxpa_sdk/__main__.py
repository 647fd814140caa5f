"""`python -m cxpa_sdk`: the `cxpa` command."""

from ._cli import main

main()
