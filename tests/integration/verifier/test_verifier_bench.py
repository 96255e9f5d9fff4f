"""bench/verify.py runs in its quick mode (figures are printed, never asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_bench_verify_quick() -> None:
    proc = subprocess.run(
        [sys.executable, "bench/verify.py", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "processes=1" in proc.stdout and "processes=2" in proc.stdout
    assert "V10" in proc.stdout
