"""Worker processes fed and read by the event loop itself (docs/board.md §12).

`concurrent.futures.ProcessPoolExecutor` hands every job to two threads of its own (one
pickles and writes the call, one reads and unpickles the result) and they compete with the
event loop for the interpreter lock on each ballot. Here each worker process has one pipe;
the event loop writes a job to it and reads the answer when the pipe is readable, with no
thread in between. A worker runs one job at a time, in the order sent; at most `depth` jobs
wait in a worker's pipe, so a write never blocks the loop, and the rest wait in memory for the
least busy worker.

A job is `function(*args)` for a module-level function; its result (or the exception it
raised) comes back pickled. A worker that dies fails its unfinished jobs with `WorkerLost`
and is replaced. Workers are spawned (a fresh interpreter), so `initializer` and `initargs`
must pickle; a worker exits when its pipe closes, also when the board process is killed.
"""

from __future__ import annotations

import asyncio
import collections
import multiprocessing
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

__all__ = ["WorkerLost", "WorkerPool"]


class WorkerLost(RuntimeError):
    """The worker process running the job exited before answering."""


def _serve(
    conn: Connection, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]
) -> None:
    """A worker's main loop: answer each job on `conn` until it closes."""
    if initializer is not None:
        initializer(*initargs)
    while True:
        try:
            function, args = pickle.loads(conn.recv_bytes())  # noqa: S301 (our parent)
        except (EOFError, OSError):
            return
        try:
            answer = (True, function(*args))
        except Exception as exc:  # sent back to the caller
            answer = (False, exc)
        try:
            data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # an answer that does not pickle is an error, said as such
            data = pickle.dumps((False, RuntimeError(f"unpicklable answer: {exc!r}")))
        try:
            conn.send_bytes(data)
        except OSError:
            return


@dataclass(eq=False)
class _Worker:
    process: Any
    conn: Connection
    waiting: collections.deque[asyncio.Future[Any]] = field(default_factory=collections.deque)


class WorkerPool:
    """`processes` worker processes; `await pool.run(function, *args)` from the event loop."""

    def __init__(
        self,
        processes: int,
        *,
        initializer: Callable[..., None] | None = None,
        initargs: tuple[Any, ...] = (),
        depth: int = 2,
    ) -> None:
        if processes < 1 or depth < 1:
            raise ValueError("a pool needs at least one process and a depth of one")
        self._initializer = initializer
        self._initargs = initargs
        self._depth = depth
        # spawned, not forked: a worker holds no copy of the board's sockets, files or other
        # pipes, so it sees end-of-file (and exits) as soon as the board closes or dies
        self._context = multiprocessing.get_context("spawn")
        self._workers = [self._start() for _ in range(processes)]
        self._backlog: collections.deque[tuple[bytes, asyncio.Future[Any]]] = collections.deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    def _start(self) -> _Worker:
        parent, child = self._context.Pipe()
        process = self._context.Process(
            target=_serve,
            args=(child, self._initializer, self._initargs),
            daemon=True,
            name="tohyo-worker",
        )
        process.start()
        child.close()
        return _Worker(process, parent)

    def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._loop is None:
            self._loop = loop
            for worker in self._workers:
                loop.add_reader(worker.conn.fileno(), self._readable, worker)
        elif self._loop is not loop:
            raise RuntimeError("a WorkerPool serves one event loop")

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        if self._closed:
            raise RuntimeError("the pool is closed")
        loop = asyncio.get_running_loop()
        self._watch(loop)
        done: asyncio.Future[Any] = loop.create_future()
        self._backlog.append(
            (pickle.dumps((function, args), protocol=pickle.HIGHEST_PROTOCOL), done)
        )
        self._dispatch()
        return await done

    def _dispatch(self) -> None:
        while self._backlog:
            worker = min(self._workers, key=lambda w: len(w.waiting))
            if len(worker.waiting) >= self._depth:
                return
            job, done = self._backlog.popleft()
            if done.cancelled():
                continue
            try:
                worker.conn.send_bytes(job)
            except OSError:
                self._backlog.appendleft((job, done))
                self._replace(worker)
                continue
            worker.waiting.append(done)

    def _readable(self, worker: _Worker) -> None:
        try:
            ok, value = pickle.loads(worker.conn.recv_bytes())  # noqa: S301 (our child)
        except (EOFError, OSError):
            self._replace(worker)
            self._dispatch()
            return
        done = worker.waiting.popleft()
        if not done.cancelled():
            if ok:
                done.set_result(value)
            else:
                done.set_exception(value)
        self._dispatch()

    def _replace(self, worker: _Worker) -> None:
        """A worker is gone: fail what it held, start another in its place."""
        if self._loop is not None:
            self._loop.remove_reader(worker.conn.fileno())
        worker.conn.close()
        worker.process.join(timeout=1)
        while worker.waiting:
            done = worker.waiting.popleft()
            if not done.done():
                done.set_exception(
                    WorkerLost(f"worker process exited (code {worker.process.exitcode})")
                )
        if self._closed:
            return
        fresh = self._start()
        self._workers[self._workers.index(worker)] = fresh
        if self._loop is not None:
            self._loop.add_reader(fresh.conn.fileno(), self._readable, fresh)

    def close(self) -> None:
        """Stop the workers; jobs not answered yet fail with `WorkerLost`."""
        if self._closed:
            return
        self._closed = True
        for _, done in self._backlog:
            if not done.done():
                done.set_exception(WorkerLost("the pool is closed"))
        self._backlog.clear()
        for worker in self._workers:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(worker.conn.fileno())
            worker.conn.close()  # the worker sees EOF and exits
        for worker in self._workers:
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.terminate()
                worker.process.join(timeout=5)
            for done in worker.waiting:
                if not done.done():
                    done.set_exception(WorkerLost("the pool is closed"))
            worker.waiting.clear()
