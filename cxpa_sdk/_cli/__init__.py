"""The `cxpa` command line, its output and the demo."""
