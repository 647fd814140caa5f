"""cxpa_sdk.ray imports without Ray; building a RunAgent without it raises an ImportError naming the extra."""

import subprocess
import sys

CHILD = """
import sys
sys.modules["ray"] = sys.modules["ray.data"] = sys.modules["numpy"] = None  # as if not installed
import cxpa_sdk.ray
try:
    cxpa_sdk.ray.RunAgent(1, job="j", key_column="id")
except ImportError as error:
    print(error)
"""


def test_without_ray_the_module_imports_and_the_class_names_the_extra() -> None:
    """`import cxpa_sdk.ray` works without Ray; `RunAgent(...)` raises ImportError naming `cxpa-sdk[ray]`."""
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "pip install 'cxpa-sdk[ray]'" in done.stdout
