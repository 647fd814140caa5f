"""The TCP relay that counts a client's connections (benchmarks/_relay.py), for the tests.

The benchmarks are no part of the wheel the tests run against (tox): they are found in the
checkout, after the installed packages, so cxpa_sdk still comes from the wheel.
"""

import sys
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent.parent))

from benchmarks._relay import Counts, counting_relay

__all__ = ["Counts", "counting_relay"]
