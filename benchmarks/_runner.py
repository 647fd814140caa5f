"""Alternating pairs: run the SDK side (A) and the raw side (B) as A B A B ..., after a warm-up pair.

The statistics are the median of each side and the median of the pairwise ratios A/B: pairing
adjacent measurements cancels slow drifts of the machine (other load, CPU frequency, caches). Where
one measurement is many small calls, `interleave` alternates inside it too, block by block, so that
drifts shorter than a measurement cancel as well.
"""

from __future__ import annotations

import statistics
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Pairs:
    """Measurements of both sides, pair by pair (warm-up excluded)."""

    sdk: list[float]
    raw: list[float]

    @property
    def sdk_median(self) -> float:
        """The SDK side's median."""
        return statistics.median(self.sdk)

    @property
    def raw_median(self) -> float:
        """The raw side's median."""
        return statistics.median(self.raw)

    @property
    def ratio_median(self) -> float:
        """The median of the pairwise ratios SDK/raw."""
        return statistics.median(a / b if b else float("inf") for a, b in zip(self.sdk, self.raw, strict=True))

    @property
    def ratio_range(self) -> tuple[float, float]:
        """The smallest and the largest pairwise ratio SDK/raw: how noisy the row is."""
        ratios = [a / b if b else float("inf") for a, b in zip(self.sdk, self.raw, strict=True)]
        return min(ratios), max(ratios)

    @property
    def reps(self) -> int:
        """How many pairs were measured."""
        return len(self.sdk)


def alternate(sdk: Callable[[], float], raw: Callable[[], float], *, reps: int, warmup_pairs: int = 1) -> Pairs:
    """Measure `reps` pairs alternately (SDK then raw), after `warmup_pairs` pairs that are not counted."""
    for _ in range(warmup_pairs):
        sdk()
        raw()
    pairs = Pairs([], [])
    for _ in range(reps):
        pairs.sdk.append(sdk())
        pairs.raw.append(raw())
    return pairs


async def aalternate(
    sdk: Callable[[], Awaitable[float]], raw: Callable[[], Awaitable[float]], *, reps: int, warmup_pairs: int = 1
) -> Pairs:
    """The async twin of `alternate`, for measurements that run on the event loop, after `warmup_pairs`."""
    for _ in range(warmup_pairs):
        await sdk()
        await raw()
    pairs = Pairs([], [])
    for _ in range(reps):
        pairs.sdk.append(await sdk())
        pairs.raw.append(await raw())
    return pairs


def interleave(sdk: Callable[[int], float], raw: Callable[[int], float], *, calls: int, block: int, reps: int) -> Pairs:
    """`reps` pairs of `calls` calls a side, each pair run as blocks of `block` calls, A B A B ...

    `sdk(n)` and `raw(n)` make n calls and return the seconds they took; a pair's values are per call.
    One pair before them is a warm-up.
    """
    sdk_per_call, raw_per_call = [], []
    for _ in range(reps + 1):
        sdk_spent = raw_spent = 0.0
        for _ in range(calls // block):
            sdk_spent += sdk(block)
            raw_spent += raw(block)
        sdk_per_call.append(sdk_spent / calls)
        raw_per_call.append(raw_spent / calls)
    return Pairs(sdk_per_call[1:], raw_per_call[1:])  # the first pair was the warm-up


async def ainterleave(
    sdk: Callable[[int], Awaitable[float]],
    raw: Callable[[int], Awaitable[float]],
    *,
    calls: int,
    block: int,
    reps: int,
) -> Pairs:
    """The async twin of `interleave`."""
    sdk_per_call, raw_per_call = [], []
    for _ in range(reps + 1):
        sdk_spent = raw_spent = 0.0
        for _ in range(calls // block):
            sdk_spent += await sdk(block)
            raw_spent += await raw(block)
        sdk_per_call.append(sdk_spent / calls)
        raw_per_call.append(raw_spent / calls)
    return Pairs(sdk_per_call[1:], raw_per_call[1:])  # the first pair was the warm-up
