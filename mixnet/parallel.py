"""Splitting large work over a `concurrent.futures.Executor` (docs/protocol.md §7.4).

The same code runs inline (no executor), on a local process pool, or on a Dask cluster's
executor; results are combined in a fixed order, so they are bit-identical in all three.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Any, TypeVar

__all__ = ["chunk_bounds", "run_chunks", "worker_count"]

T = TypeVar("T")

#: Below this many items a job runs inline: pickling would cost more than it saves.
MIN_PARALLEL_ITEMS = 256


def worker_count(executor: Executor | None) -> int:
    if executor is None:
        return 1
    n = getattr(executor, "_max_workers", None) or getattr(executor, "tohyo_workers", None)
    return int(n) if n else 2


def chunk_bounds(n: int, parts: int) -> list[tuple[int, int]]:
    """Split range(n) into at most `parts` contiguous, nearly equal pieces."""
    parts = max(1, min(parts, n))
    size, extra = divmod(n, parts)
    bounds, start = [], 0
    for i in range(parts):
        stop = start + size + (1 if i < extra else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


def run_chunks(
    executor: Executor | None,
    func: Callable[..., T],
    n: int,
    make_args: Callable[[int, int], Sequence[Any]],
) -> list[T]:
    """Run func(*make_args(start, stop)) over chunks of range(n); results in chunk order."""
    if executor is None or n < MIN_PARALLEL_ITEMS:
        return [func(*make_args(0, n))]
    bounds = chunk_bounds(n, 2 * worker_count(executor))
    futures = [executor.submit(func, *make_args(a, b)) for a, b in bounds]
    return [f.result() for f in futures]
