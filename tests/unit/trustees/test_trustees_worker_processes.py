"""The daemon's worker processes (--workers, the generators derived ahead) end with it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("pool", ["_executor(2)", "_background_executor()"])
def test_a_killed_daemon_leaves_no_worker_behind(pool: str) -> None:
    script = (
        "import os, time\n"
        "from trustees.cli import _background_executor, _executor\n"
        "if __name__ == '__main__':\n"
        f"    ex = {pool}\n"
        "    pids = {ex.submit(os.getpid).result() for _ in range(4)}\n"
        "    print(*pids, os.getpriority(os.PRIO_PROCESS, min(pids)), flush=True)\n"
        "    time.sleep(60)\n"
    )
    daemon = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                              cwd=REPO)
    assert daemon.stdout is not None
    *pids, priority = (int(p) for p in daemon.stdout.readline().split())
    assert pids and int(priority) == (10 if pool.startswith("_background") else 0)
    daemon.kill()
    daemon.wait()
    deadline = time.monotonic() + 20
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(p) for p in pids)
