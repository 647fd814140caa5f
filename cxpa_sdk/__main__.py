"""`python -m cxpa_sdk`: the `cxpa` command."""

from ._cli._main import main

main()
