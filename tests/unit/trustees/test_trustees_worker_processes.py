"""The daemon's worker processes (--workers, the generators derived ahead) end with it."""

from __future__ import annotations

import pytest

from tests.process_support import kill_and_watch


@pytest.mark.parametrize("pool", ["_executor(2)", "_background_executor()"])
def test_a_killed_daemon_leaves_no_worker_behind(pool: str) -> None:
    script = (
        "import os, time\n"
        "from trustees.cli import _background_executor, _executor\n"
        "if __name__ == '__main__':\n"
        f"    ex = {pool}\n"
        "    pids = {ex.submit(os.getpid).result() for _ in range(4)}\n"
        "    print(*pids, 'nice', os.getpriority(os.PRIO_PROCESS, min(pids)), flush=True)\n"
        "    time.sleep(60)\n"
    )
    words, left = kill_and_watch(script)
    niceness = int(words[words.index("nice") + 1])
    assert words.index("nice") >= 1 and not left
    assert niceness == (10 if pool.startswith("_background") else 0)
