"""The intake's group commit of registrar evidence: one flush for every item that waited."""

from __future__ import annotations

import asyncio
import threading

import pytest

from election.intake import _GroupCommit


def test_items_submitted_during_a_flush_share_the_next_one() -> None:
    release = threading.Event()
    flushes: list[list[int]] = []

    def flush(items: list[int]) -> None:
        if not flushes:
            release.wait(10)  # the first flush is slow: the others queue behind it
        flushes.append(items)

    async def main() -> None:
        group = _GroupCommit(flush)
        first = asyncio.ensure_future(group.submit(0))
        await asyncio.sleep(0.05)
        rest = [asyncio.ensure_future(group.submit(k)) for k in range(1, 6)]
        await asyncio.sleep(0.05)
        assert not any(r.done() for r in rest)  # nobody returns before their flush
        release.set()
        await asyncio.gather(first, *rest)

    asyncio.run(main())
    assert flushes == [[0], [1, 2, 3, 4, 5]]


def test_a_failed_flush_fails_every_item_of_its_group_and_the_next_group_still_runs() -> None:
    calls: list[list[str]] = []

    def flush(items: list[str]) -> None:
        calls.append(items)
        if "bad" in items:
            raise OSError("disk full")

    async def main() -> None:
        group = _GroupCommit(flush)
        results = await asyncio.gather(
            group.submit("bad"), group.submit("also in it"), return_exceptions=True
        )
        assert [type(r) for r in results] == [OSError, OSError]
        await group.submit("fine")

    asyncio.run(main())
    assert calls == [["bad", "also in it"], ["fine"]]


def test_a_cancelled_caller_does_not_cancel_the_flush() -> None:
    flushed: list[list[int]] = []
    release = threading.Event()

    def flush(items: list[int]) -> None:
        release.wait(10)
        flushed.append(items)

    async def main() -> None:
        group = _GroupCommit(flush)
        task = asyncio.ensure_future(group.submit(1))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        release.set()
        await group.submit(2)

    asyncio.run(main())
    assert flushed == [[1], [2]]


def test_under_load_a_flush_waits_for_more_items() -> None:
    flushes: list[list[int]] = []

    async def main(delay: float) -> None:
        group = _GroupCommit(flushes.append, delay=delay)
        await asyncio.gather(group.submit(0), group.submit(1))  # one flush of two: load
        late = []
        for k in range(2, 7):
            late.append(asyncio.ensure_future(group.submit(k)))
            await asyncio.sleep(0.002)
        await asyncio.gather(*late)

    asyncio.run(main(delay=0.3))
    assert flushes == [[0, 1], [2, 3, 4, 5, 6]]
    flushes.clear()
    asyncio.run(main(delay=0.0))  # without the delay each late item is flushed on its own
    assert flushes[0] == [0, 1] and len(flushes) > 2
