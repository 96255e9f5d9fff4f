"""The worker pool the ballot intake checks ballots in: answers, errors, a dead worker, close."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from bulletin_board.workers import WorkerLost, WorkerPool

_STATE: dict[str, int] = {}


def _init(value: int) -> None:
    _STATE["base"] = value


def _add(x: int) -> tuple[int, int]:
    return os.getpid(), _STATE["base"] + x


def _fail(message: str) -> None:
    raise ValueError(message)


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _unpicklable() -> object:
    return lambda: None


def test_many_jobs_on_every_worker_in_order_of_their_answers() -> None:
    async def main() -> None:
        pool = WorkerPool(2, initializer=_init, initargs=(1000,), depth=2)
        try:
            answers = await asyncio.gather(*(pool.run(_add, k) for k in range(200)))
        finally:
            pool.close()
        assert [value for _, value in answers] == [1000 + k for k in range(200)]
        assert len({pid for pid, _ in answers}) == 2  # both workers took jobs
        assert os.getpid() not in {pid for pid, _ in answers}

    asyncio.run(main())


def test_an_exception_comes_back_to_its_caller_only() -> None:
    async def main() -> None:
        pool = WorkerPool(1, initializer=_init, initargs=(0,))
        try:
            with pytest.raises(ValueError, match="no such ballot"):
                await pool.run(_fail, "no such ballot")
            with pytest.raises(RuntimeError, match="unpicklable answer"):
                await pool.run(_unpicklable)
            assert (await pool.run(_add, 2))[1] == 2  # the worker is still there
        finally:
            pool.close()

    asyncio.run(main())


def test_a_dead_worker_fails_its_job_and_is_replaced() -> None:
    async def main() -> None:
        pool = WorkerPool(1, initializer=_init, initargs=(7,))
        try:
            first, _ = await pool.run(_add, 0)
            with pytest.raises(WorkerLost):
                await pool.run(_die)
            second, value = await pool.run(_add, 1)
            assert value == 8 and second != first  # a fresh process, initialised again
        finally:
            pool.close()

    asyncio.run(main())


def test_close_fails_what_is_waiting_and_refuses_more() -> None:
    async def main() -> None:
        pool = WorkerPool(1, initializer=_init, initargs=(0,), depth=1)
        jobs = [asyncio.ensure_future(pool.run(_add, k)) for k in range(5)]
        await asyncio.sleep(0)  # every job is sent or waiting
        pool.close()
        results = await asyncio.gather(*jobs, return_exceptions=True)
        assert any(isinstance(r, WorkerLost) for r in results)
        with pytest.raises(RuntimeError, match="closed"):
            await pool.run(_add, 1)

    asyncio.run(main())


def test_a_pool_needs_a_process() -> None:
    with pytest.raises(ValueError):
        WorkerPool(0)


def test_workers_exit_when_the_board_process_is_killed() -> None:
    from tests.process_support import kill_and_watch

    script = (
        "import asyncio, os, sys\n"
        "from bulletin_board.workers import WorkerPool\n"
        "from tests.unit.board.test_board_workers import _add, _init\n"
        "async def main():\n"
        "    pool = WorkerPool(2, initializer=_init, initargs=(0,))\n"
        "    pids = {p for p, _ in await asyncio.gather(*(pool.run(_add, k) for k in range(8)))}\n"
        "    print(*pids, flush=True)\n"
        "    await asyncio.sleep(60)\n"
        "asyncio.run(main())\n"
    )
    pids, left = kill_and_watch(script)
    assert len(pids) == 2 and not left
