"""The runtime host's public surface: a sorted, documented `__all__` read as `cxpa_sdk.runtime`; twin contexts."""

from __future__ import annotations

import inspect

import cxpa_sdk.runtime as runtime_package
from cxpa_sdk.runtime import RunContext, SyncRunContext


def test_all_is_sorted_documented_and_reads_as_the_package() -> None:
    """__all__ is sorted, every name has a docstring, and classes say `cxpa_sdk.runtime.X` in reprs."""
    assert runtime_package.__all__ == sorted(runtime_package.__all__)
    for name in runtime_package.__all__:
        exported = getattr(runtime_package, name)
        assert inspect.getdoc(exported), name
        assert exported.__module__ == "cxpa_sdk.runtime", name


def test_sync_and_async_contexts_are_twins() -> None:
    """RunContext and SyncRunContext offer the same public names, the async one's methods awaitable."""

    def public(cls: type) -> dict[str, object]:
        return {name: value for name, value in inspect.getmembers(cls) if not name.startswith("_")}

    async_side, sync_side = public(RunContext), public(SyncRunContext)
    assert set(async_side) == set(sync_side)
    for name, member in async_side.items():
        if inspect.isfunction(member):
            twin = sync_side[name]
            assert inspect.iscoroutinefunction(member), name
            assert inspect.isfunction(twin), name
            assert not inspect.iscoroutinefunction(twin), name
            assert list(inspect.signature(member).parameters) == list(inspect.signature(twin).parameters), name
