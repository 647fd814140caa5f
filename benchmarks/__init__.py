"""Benchmarks of cxpa-sdk against raw httpx2, side by side in one run: `python -m benchmarks`.

Each row measures the SDK (A) and the equivalent raw httpx2 code (B) alternately (A B A B ...), after
a warm-up pair, and reports both medians, the median of the pairwise ratios and whether the row's
goal is met. The results go to BENCHMARKS.md with the machine they ran on.
"""
