"""Every `tohyo bench …` command parses its own options and runs (tiny sizes; no timing is
asserted, only that the figures are printed)."""

from __future__ import annotations

import pytest

from bench.cli import BENCHMARKS
from tohyo.cli import main


@pytest.mark.parametrize("name", sorted(BENCHMARKS))
def test_every_benchmark_has_its_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["bench", name, "--help"])
    assert exited.value.code == 0
    assert "usage: tohyo bench" in capsys.readouterr().out


def test_bench_trustees_takes_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "trustees", "--group", "tohyo-schnorr-3072-256", "--n", "2",
                 "--reps", "3"]) == 0
    out = capsys.readouterr().out
    assert "share verification, per ciphertext" in out and "exp. equivalents" in out
