"""cxpa-sdk: the Python SDK for the CXPA agent-runs platform.

Trigger agent runs, wait for them, stream the files they produce, register and report runs of
your own, and write agent runtimes that call back with progress. The low-level client generated
from the spec is the separate package `cxpa_api`.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
