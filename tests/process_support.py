"""Test support: run a script that starts worker processes, kill it, see whether they end."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def alive(pid: int) -> bool:
    """Is process `pid` running (not gone, not a zombie)?"""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def kill_and_watch(script: str, seconds: float = 30) -> tuple[list[str], list[int]]:
    """Run `script` (Python, from the repository), read the first line it prints (process
    ids, then any words that are not all digits), kill it with SIGKILL, and wait up to
    `seconds` for the processes it named to end. Returns (the words of the line, the ids
    still alive)."""
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    assert parent.stdout is not None
    words = parent.stdout.readline().split()
    pids = [int(w) for w in itertools.takewhile(str.isdigit, words)]
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + seconds
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return words, [p for p in pids if alive(p)]


def run_tohyo(
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    input: str | None = None,
    stdin: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """`tohyo ARGS` as a user runs it (this interpreter, the environment plus `env`): its exit
    status and output. `input` is written to its standard input; otherwise `stdin` is given."""
    return subprocess.run(
        [sys.executable, "-m", "tohyo", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        **({"input": input} if input is not None else {"stdin": stdin}),
    )
