"""Shared test settings: the hypothesis profiles (ci, compat, long) and the pytester plugin."""

import os

from hypothesis import HealthCheck, settings

# `ci` (the default) is what the README's test command runs; `long` is opt-in for deeper fuzzing:
# CXPA_HYPOTHESIS_PROFILE=long tox -e py311
settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=False
)
settings.register_profile("long", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# The other Pythons check compatibility with fewer examples; the primary one fuzzes with 200 (tox.ini).
settings.register_profile("compat", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("CXPA_HYPOTHESIS_PROFILE", "ci"))

pytest_plugins = ["pytester"]
