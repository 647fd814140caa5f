"""The version of cxpa-sdk: the one source (hatch reads it for the distribution)."""

__version__ = "0.2.0"
