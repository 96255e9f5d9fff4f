"""Where the bulk work runs: inline, a local process pool, or a Dask cluster.

Every bulk operation of the mix-net takes a `concurrent.futures.Executor` and splits its input
into contiguous chunks combined in a fixed order (`mixnet.parallel`), so the three give
bit-identical results. `DaskExecutor` adapts `distributed.Client.get_executor()`: it tells
`mixnet.parallel.worker_count` how many workers the cluster has (`tohyo_workers`), submits
impure tasks (no hashing of large arguments), and counts what it submitted.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any

__all__ = ["EXECUTORS", "DaskExecutor", "open_executor"]

EXECUTORS = ("local", "dask")


class DaskExecutor(Executor):
    """A `concurrent.futures.Executor` over a `distributed.Client` (see the module docstring)."""

    def __init__(self, client: Any, workers: int | None = None) -> None:
        self.client = client
        self._inner = client.get_executor(pure=False)
        if workers is None:
            workers = sum(
                int(w.get("nthreads", 1)) for w in client.scheduler_info()["workers"].values()
            )
        self.tohyo_workers = max(1, workers)
        self.submitted = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.submitted += 1
        future: Future[Any] = self._inner.submit(fn, *args, **kwargs)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._inner.shutdown(wait=wait)


@contextlib.contextmanager
def open_executor(
    kind: str, processes: int, scheduler: str | None = None
) -> Iterator[Executor | None]:
    """The executor for `--executor kind --processes P [--scheduler ADDRESS]`.

    `local` with one process runs inline (None). `dask` starts a `LocalCluster` of P worker
    processes (one thread each, no dashboard, bound to 127.0.0.1) unless `scheduler` names a
    running cluster to connect to.
    """
    if kind not in EXECUTORS:
        raise ValueError(f"executor must be one of {EXECUTORS}")
    if kind == "local":
        if processes <= 1:
            yield None
            return
        pool = ProcessPoolExecutor(processes)
        try:
            yield pool
        finally:
            pool.shutdown(cancel_futures=True)
        return
    from distributed import Client, LocalCluster

    if scheduler:
        client = Client(scheduler)  # type: ignore[no-untyped-call]
        try:
            yield DaskExecutor(client)
        finally:
            client.close()  # type: ignore[no-untyped-call]
        return
    cluster = LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=processes,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        host="127.0.0.1",
    )
    client = Client(cluster)  # type: ignore[no-untyped-call]
    try:
        yield DaskExecutor(client, processes)
    finally:
        client.close()  # type: ignore[no-untyped-call]
        cluster.close()
